/**
 * The files and folders rds trusts are really its own (like OpenSSH's StrictModes).
 *
 * rds acts on what its config, its keys, its state dir, its install root and its Maildir
 * tree say: whoever can write one of them can make rds install, sign or trust anything.
 * So before a command uses them, each path and every folder above it is checked with
 * lstat (a symlink is judged as itself, then its target is checked too):
 *
 * - owner: the user running rds, or root;
 * - mode: not group- or world-writable; a folder above may be world-writable only when it
 *   has the sticky bit and belongs to root or to us (`/tmp`): others cannot rename or
 *   remove what is ours in it;
 * - secrets (private key, passphrase and password files): not readable by group or world.
 *
 * A failed check is a UsageError (exit 2) naming the path, what was found and the fix.
 * Nothing here changes a file: `rds init` fixes the modes of what it creates itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

export type TrustKind = 'file' | 'dir' | 'secret';

export interface TrustedPath {
  path: string;
  kind: TrustKind;
  /** what it is, for the message: "config", "private key", "state dir" … */
  what: string;
  /** a path that does not exist yet is fine (rds creates it); its nearest existing parent is checked */
  mayBeMissing?: boolean;
}

export interface TrustOptions {
  /** the user rds runs as (default: the process's effective uid) */
  uid?: number;
}

const GROUP_WORLD_WRITE = 0o022;
const GROUP_WORLD_ANY = 0o077;
const STICKY = 0o1000;

/** Check every path; the first problem found is thrown. Parent folders are checked once. */
export function checkTrusted(paths: readonly TrustedPath[], options: TrustOptions = {}): void {
  const uid = options.uid ?? process.geteuid?.() ?? 0;
  const seen = new Set<string>();
  for (const entry of paths) {
    const problem = trustProblem(entry, uid, seen);
    if (problem) throw new UsageError('UNTRUSTED_PATH', problem);
  }
}

/** The problem with one path as one line (path, what was found, the fix), or undefined. */
export function trustProblem(entry: TrustedPath, uid: number, seen = new Set<string>()): string | undefined {
  const abs = path.resolve(entry.path);
  let target = abs;
  let st = lstatOrUndefined(abs);
  if (!st) {
    if (!entry.mayBeMissing) return undefined; // missing files are the reader's error, with its own message
    // check the folders that will hold it
    return parentProblem(path.dirname(abs), entry, uid, seen);
  }
  if (st.isSymbolicLink()) {
    const linkProblem = ownerProblem(abs, st, entry, uid, 'symlink');
    if (linkProblem) return linkProblem;
    const above = parentProblem(path.dirname(abs), entry, uid, seen);
    if (above) return above;
    try {
      target = fs.realpathSync(abs);
    } catch (error) {
      return `${entry.what} ${abs} is a symlink that cannot be followed (${(error as NodeJS.ErrnoException).code}); fix: point it at the real ${entry.what} or replace it`;
    }
    st = fs.lstatSync(target);
  }
  const isDir = st.isDirectory();
  if (entry.kind === 'dir' && !isDir) return `${entry.what} ${target} is not a folder; fix: remove it or point the config elsewhere`;
  // a folder where a file belongs is the reader's error (it says "cannot be read"); a fifo,
  // socket or device would make the reader block or read something else
  if (entry.kind !== 'dir' && !st.isFile() && !isDir) {
    return `${entry.what} ${target} is not a regular file; fix: replace it with the real ${entry.what}`;
  }
  const own = ownerProblem(target, st, entry, uid, isDir ? 'folder' : 'file');
  if (own) return own;
  const mode = st.mode & 0o7777;
  if (mode & GROUP_WORLD_WRITE) {
    return `${entry.what} ${target} is mode ${octal(mode)} (${writers(mode)} may change it); fix: chmod go-w ${target}`;
  }
  if (entry.kind === 'secret' && mode & GROUP_WORLD_ANY) {
    return `${entry.what} ${target} is mode ${octal(mode)} (others may read it); fix: chmod 600 ${target}`;
  }
  return parentProblem(path.dirname(target), entry, uid, seen);
}

function parentProblem(start: string, entry: TrustedPath, uid: number, seen: Set<string>): string | undefined {
  let dir = start;
  for (;;) {
    if (!seen.has(dir)) {
      const st = lstatOrUndefined(dir);
      if (st) {
        seen.add(dir);
        if (st.isSymbolicLink()) {
          // a symlinked folder above (e.g. /var -> /private/var): judge the link, then its target
          const own = ownerProblem(dir, st, entry, uid, 'symlink');
          if (own) return own;
          let real: string;
          try {
            real = fs.realpathSync(dir);
          } catch (error) {
            return `folder ${dir} above ${entry.what} ${entry.path} cannot be followed (${(error as NodeJS.ErrnoException).code})`;
          }
          const above = parentProblem(real, entry, uid, seen);
          if (above) return above;
        } else {
          const own = ownerProblem(dir, st, entry, uid, 'folder', true);
          if (own) return own;
          const mode = st.mode & 0o7777;
          const sticky = (mode & STICKY) !== 0;
          if (mode & GROUP_WORLD_WRITE && !sticky) {
            return `folder ${dir} above ${entry.what} ${path.resolve(entry.path)} is mode ${octal(mode)} (${writers(mode)} may replace what is in it); fix: chmod go-w ${dir}`;
          }
        }
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function ownerProblem(file: string, st: fs.Stats, entry: TrustedPath, uid: number, noun: string, above = false): string | undefined {
  if (st.uid === uid || st.uid === 0) return undefined;
  const subject = above ? `folder ${file} above ${entry.what} ${path.resolve(entry.path)}` : `${entry.what} ${file}`;
  const kind = noun === 'symlink' ? ' (a symlink)' : '';
  return `${subject}${kind} is owned by ${userName(st.uid)}, not by ${userName(uid)} or root; fix: chown ${userName(uid, true)} ${file}`;
}

function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new UsageError('UNTRUSTED_PATH', `${file} cannot be checked (${code}); fix: make it readable by the user running rds`, {
      cause: error,
    });
  }
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

function writers(mode: number): string {
  const who = [mode & 0o020 ? 'its group' : '', mode & 0o002 ? 'every user' : ''].filter(Boolean);
  return who.join(' and ');
}

let passwd: Map<number, string> | undefined;

/** `uid 65534 (nobody)`, or the bare name for a chown command. */
function userName(uid: number, bare = false): string {
  if (!passwd) {
    passwd = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id && /^\d+$/.test(id) && !passwd.has(Number(id))) passwd.set(Number(id), name);
      }
    } catch {
      // no passwd file: numbers only
    }
  }
  const name = passwd.get(uid);
  if (bare) return name && /^[A-Za-z0-9._-]+$/.test(name) ? name : String(uid);
  return name ? `uid ${uid} (${name.replace(/[^A-Za-z0-9._-]/g, '?')})` : `uid ${uid}`;
}

/**
 * A folder rds is about to create or reuse as its own (`rds init`): created 0700 when
 * missing; when it exists it must be a real folder owned by us or root, and a
 * group/world-writable mode is fixed to 0700 (reported back). Another owner is refused.
 * The folders above it are checked like any trusted path.
 */
export function ensureOwnDir(dir: string, what: string, options: TrustOptions = {}): string | undefined {
  const uid = options.uid ?? process.geteuid?.() ?? 0;
  const abs = path.resolve(dir);
  const above = parentProblem(path.dirname(abs), { path: abs, kind: 'dir', what }, uid, new Set());
  if (above) throw new UsageError('UNTRUSTED_PATH', above);
  const st = lstatOrUndefined(abs);
  if (!st) {
    fs.mkdirSync(abs, { recursive: true, mode: 0o700 });
    // mkdir -p may have created folders above it too: they get the process umask, check again
    const created = trustProblem({ path: abs, kind: 'dir', what }, uid);
    if (created) throw new UsageError('UNTRUSTED_PATH', created);
    return undefined;
  }
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new UsageError(
      'UNTRUSTED_PATH',
      `${what} ${abs} exists and is not a folder${st.isSymbolicLink() ? ' (a symlink)' : ''}; fix: remove it or choose another path`,
    );
  }
  const own = ownerProblem(abs, st, { path: abs, kind: 'dir', what }, uid, 'folder');
  if (own) throw new UsageError('UNTRUSTED_PATH', own);
  const mode = st.mode & 0o7777;
  if (mode & GROUP_WORLD_WRITE) {
    try {
      fs.chmodSync(abs, 0o700);
    } catch (error) {
      throw new UsageError(
        'UNTRUSTED_PATH',
        `${what} ${abs} is mode ${octal(mode)} and cannot be changed (${(error as NodeJS.ErrnoException).code}); fix: chmod 700 ${abs} as its owner`,
        { cause: error },
      );
    }
    return `${what} ${abs} was mode ${octal(mode)}; now 0700`;
  }
  return undefined;
}

/**
 * Write `file` so that nothing planted at its name is followed: the data goes to a fresh
 * name created with O_EXCL (which never follows a symlink), then rename(2) replaces
 * whatever was at `file` — a planted symlink is replaced, its target never touched.
 */
export function replaceFileSafely(file: string, data: string | Uint8Array, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * mkdir -p that refuses when the folder itself is a symlink or not a folder. Only the last
 * part is checked: callers pass a folder one level below one already checked (the state
 * dir, the install root), or call it level by level.
 */
export function mkdirNoFollow(dir: string, mode = 0o700, what = ''): void {
  fs.mkdirSync(dir, { recursive: true, mode });
  const st = fs.lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new UsageError(
      'UNTRUSTED_PATH',
      `${what ? `${what} ` : ''}${dir} is ${st.isSymbolicLink() ? 'a symlink' : 'not a folder'} where rds keeps its own folder; fix: remove it`,
    );
  }
}
