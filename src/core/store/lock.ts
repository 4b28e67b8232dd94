import fs from 'node:fs';
import path from 'node:path';
import { TransientError } from '../errors.js';

export interface CommandLock {
  release(): void;
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
 * One pass of a command at a time per state dir (docs/state.md#locks: cron may start a pass
 * while the last one still runs). The lock is a file created atomically (link(2)) holding
 * the owner's pid; a lock left by a dead process (kill -9, power cut) is taken over.
 */
export function acquireCommandLock(stateDir: string, command: string): CommandLock {
  const dir = path.join(stateDir, 'locks');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${command}.lock`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // The lock appears with the owner's pid already in it: write a private file, then
      // link(2) it into place (fails with EEXIST like O_EXCL). Creating the lock empty and
      // writing the pid afterwards let a contender read '' in between, call the lock stale
      // and take it over: two passes ran at once (found by test/hostile/faults-injection).
      const mine = `${file}.new-${process.pid}`;
      fs.rmSync(mine, { force: true }); // a leftover of a crashed pass with our pid
      fs.writeFileSync(mine, String(process.pid), { mode: 0o600, flag: 'wx' }); // O_EXCL: never through a planted symlink
      try {
        fs.linkSync(mine, file);
      } finally {
        fs.rmSync(mine, { force: true });
      }
      return {
        release: () => {
          try {
            if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const seen = readOrEmpty(file);
      const owner = Number.parseInt(seen, 10);
      if (Number.isFinite(owner) && owner > 0 && isAlive(owner) && owner !== process.pid) {
        throw new TransientError('COMMAND_LOCKED', `another '${command}' pass is running (pid ${owner}); try again later`);
      }
      // stale: the owner died. Rename it away atomically so only one taker wins.
      const stale = `${file}.stale-${process.pid}`;
      try {
        fs.renameSync(file, stale);
        // another taker may have replaced the dead owner's lock with its own live one
        // between our read and our rename: put that one back instead of stealing it
        if (readOrEmpty(stale) !== seen) fs.linkSync(stale, file);
        fs.unlinkSync(stale);
      } catch {
        /* someone else took it over first; retry */
        fs.rmSync(stale, { force: true });
      }
    }
  }
  throw new TransientError('COMMAND_LOCKED', `could not take the '${command}' lock in ${dir}; try again later`);
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
