import fs from 'node:fs';

/**
 * True when stderr is connected to the systemd journal: systemd sets JOURNAL_STREAM to the
 * "device:inode" of the stream it hands the service (systemd.exec(5)); a child whose stderr
 * was redirected elsewhere inherits the variable, so it is compared with fd 2 itself.
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const match = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!match) return false;
  try {
    const stat = fs.fstatSync(fd, { bigint: true });
    return stat.dev === BigInt(match[1] as string) && stat.ino === BigInt(match[2] as string);
  } catch {
    return false;
  }
}
