/**
 * Where the report goes: FILE's folder must exist; a regular file of that name is replaced
 * atomically (written beside it, then renamed over it), anything else there (a symlink, a
 * folder, a FIFO, a device) is refused, exit 2, and left as it was. Mode 0600: the page
 * holds customer notes and mail addresses from the host store (itself 0700/0600); sharing
 * it is the operator's act (attach it, copy it), which needs no one else to read it here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { replaceFileSafely } from '../fs/trust.js';

export const REPORT_MODE = 0o600;

/** fleet-report-2026-12-07.html: a report a day, in the current folder. */
export function defaultReportFile(now: Date): string {
  return `fleet-report-${now.toISOString().slice(0, 10)}.html`;
}

export function checkReportFile(file: string): void {
  const dir = path.dirname(file);
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch {
    throw new UsageError('BAD_OUTPUT', `--html ${file}: the folder ${dir} does not exist`);
  }
  if (!dirStat.isDirectory()) throw new UsageError('BAD_OUTPUT', `--html ${file}: ${dir} is not a folder`);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return; // a new file
  }
  if (!st.isFile()) {
    const what = st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a folder' : 'not a regular file';
    throw new UsageError('BAD_OUTPUT', `--html ${file} is ${what}; rds replaces only a regular file: give another name`);
  }
}

export function writeReport(file: string, html: string): void {
  checkReportFile(file);
  replaceFileSafely(file, html, REPORT_MODE);
}
