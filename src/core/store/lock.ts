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
 * One pass of a command at a time per state dir (DESIGN: cron may start a pass while the
 * last one still runs). The lock is a file created with O_EXCL holding the owner's pid; a
 * lock left by a dead process (kill -9, power cut) is taken over.
 */
export function acquireCommandLock(stateDir: string, command: string): CommandLock {
  const dir = path.join(stateDir, 'locks');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${command}.lock`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
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
      const owner = Number.parseInt(readOrEmpty(file), 10);
      if (Number.isFinite(owner) && owner > 0 && isAlive(owner) && owner !== process.pid) {
        throw new TransientError('COMMAND_LOCKED', `another '${command}' pass is running (pid ${owner}); try again later`);
      }
      // stale: the owner died. Rename it away atomically so only one taker wins.
      try {
        fs.renameSync(file, `${file}.stale-${process.pid}`);
        fs.unlinkSync(`${file}.stale-${process.pid}`);
      } catch {
        /* someone else took it over first; retry */
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
