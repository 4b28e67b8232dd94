import fs from 'node:fs';
import path from 'node:path';
import { sleep } from '../clock.js';
import { TransientError } from '../errors.js';

export interface CommandLock {
  release(): void;
}

/**
 * What a lock protects: a piece of state two passes must not work on at once, whichever
 * commands they are (docs/locks.md). `mailbox`: taking in this node's mail (a message
 * handled twice is quarantined as REPLAYED); `outbox`: sending queued mail (an item sent
 * twice); `install`: the install journal and `current`; `counters`/`faults`: one device
 * poll at a time writing readings or fault events; `keys`: the host key and its rotation.
 * Listed in the one order every command takes them in, so two commands never deadlock.
 */
export const RESOURCES = ['keys', 'install', 'counters', 'faults', 'mailbox', 'outbox'] as const;
export type Resource = (typeof RESOURCES)[number];

/** A per-pass hold (one take-in, one flush) marks its lock so that a command waits for it briefly. */
const BRIEF = ' (one pass)';
/** How long a command waits for a per-pass holder before it is locked out (exit 3). */
export const BRIEF_WAIT_MS = 15_000;

/**
 * Take every lock in RESOURCES order, all or none: busy is COMMAND_LOCKED (exit 3) naming
 * the command that holds it, at once when that command holds it for its whole run, after
 * at most BRIEF_WAIT_MS when it holds it for one pass (an `inbox --every` flushing).
 */
export async function acquireLocks(
  stateDir: string,
  resources: readonly Resource[],
  command: string,
  waitMs = BRIEF_WAIT_MS,
): Promise<CommandLock> {
  const wanted = RESOURCES.filter((r) => resources.includes(r));
  const held: CommandLock[] = [];
  const releaseAll = () => {
    for (const lock of [...held].reverse()) lock.release();
  };
  const deadline = Date.now() + waitMs;
  try {
    for (const r of wanted) {
      for (;;) {
        try {
          held.push(acquireCommandLock(stateDir, r, command));
          break;
        } catch (error) {
          if (!isBriefHold(error) || Date.now() >= deadline) throw error;
          await sleep(50);
        }
      }
    }
  } catch (error) {
    releaseAll();
    throw error;
  }
  return { release: releaseAll };
}

function isBriefHold(error: unknown): boolean {
  return error instanceof TransientError && error.code === 'COMMAND_LOCKED' && (error as { brief?: boolean }).brief === true;
}

/** One lock for one pass if it is free: undefined when another live process holds it (never waits). */
export function tryLock(stateDir: string, resource: Resource, command: string): CommandLock | undefined {
  try {
    return acquireCommandLock(stateDir, resource, `${command}${BRIEF}`);
  } catch (error) {
    if ((error as { code?: string }).code === 'COMMAND_LOCKED') return undefined;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One holder of NAME at a time per state dir (cron may start a pass while the last one
 * still runs). The lock is a file created atomically (link(2)) holding the owner's pid and
 * command; a lock left by a dead process (kill -9, power cut) is taken over.
 */
export function acquireCommandLock(stateDir: string, name: string, command = name): CommandLock {
  const dir = path.join(stateDir, 'locks');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${name}.lock`);
  const content = `${process.pid} ${command.replace(/[^\w .()-]/g, '?')}`;
  // A contended lock is tried again while it changes hands (released, or a dead owner's lock
  // removed); only a live holder, or a lock that keeps changing hands, makes us give up.
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (placeFile(file, content)) {
      return {
        release: () => {
          // only we remove a live holder's lock (a stale takeover removes dead owners' only),
          // so nothing can replace ours between this read and the unlink
          if (readOrNull(file) === content) removeFile(file);
        },
      };
    }
    const seen = readOrNull(file);
    // gone between our link and our read: its holder released it. Never treat that as
    // stale: taking over a lock we could not read moved a new holder's lock aside and let
    // a third pass in beside it (two holders at once, test/hostile/faults-injection)
    if (seen === null) continue;
    const owner = Number.parseInt(seen, 10);
    if (Number.isFinite(owner) && owner > 0 && isAlive(owner) && owner !== process.pid) {
      const holder = seen.slice(String(owner).length + 1) || name;
      const brief = holder.endsWith(BRIEF);
      const busy = new TransientError(
        'COMMAND_LOCKED',
        `another '${brief ? holder.slice(0, -BRIEF.length) : holder}' pass is running (pid ${owner}); try again later`,
      );
      throw Object.assign(busy, { brief });
    }
    removeStale(file, seen);
  }
  throw new TransientError('COMMAND_LOCKED', `could not take the '${name}' lock in ${dir}; try again later`);
}

/**
 * Create FILE holding CONTENT if it does not exist: false when it does. The lock appears
 * with the owner's pid already in it: write a private file, then link(2) it into place
 * (fails with EEXIST like O_EXCL). Creating the lock empty and writing the pid afterwards
 * let a contender read '' in between, call the lock stale and take it over.
 */
function placeFile(file: string, content: string): boolean {
  const mine = `${file}.new-${process.pid}`;
  removeFile(mine); // a leftover of a crashed pass with our pid
  fs.writeFileSync(mine, content, { mode: 0o600, flag: 'wx' }); // O_EXCL: never through a planted symlink
  try {
    fs.linkSync(mine, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    removeFile(mine);
  }
}

/** A takeover guard older than this was left by a process that died inside the takeover. */
const GUARD_STALE_MS = 10_000;

/**
 * Remove a dead owner's lock (kill -9, power cut) so the next try can take it. Two takers
 * may see the same dead lock; the first removes it and takes the lock, and the second must
 * not then remove the new live one. So the removal happens under a guard file (one taker
 * at a time, held for a read and an unlink) and only when the lock still holds exactly what
 * was seen dead. Moving the lock aside and putting it back, as before, left a window in
 * which a third taker's link went in and the put-back then dropped a live holder's lock.
 */
function removeStale(file: string, seen: string): void {
  const guard = `${file}.takeover`;
  if (!placeFile(guard, String(process.pid))) {
    // another taker is at it; a guard left by a taker that died is cleared after a while
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > GUARD_STALE_MS) removeFile(guard);
    } catch {
      /* gone: its taker finished */
    }
    return;
  }
  try {
    if (readOrNull(file) === seen) removeFile(file);
  } finally {
    removeFile(guard);
  }
}

/**
 * Remove a file that may be gone already (fs.rmSync's `force` without its second lstat and
 * the rimraf module it loads: a cron pass takes and releases locks every minute).
 */
function removeFile(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The file's text, or null when there is no such file (any other error is thrown). */
function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
