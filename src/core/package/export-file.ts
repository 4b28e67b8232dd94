/**
 * The exported update `.rdsx` (docs/formats.md#exported-update-rdsx): the very update mail
 * push-all would send one agent (RFC 5322: the signed `update` payload as payload.asc, the
 * package as update.rdsu wrapped for that agent's key only), saved as a file behind one
 * marker header line, so an agent whose mail is broken installs it with `rds apply-update`
 * and every check of the mail path.
 */
import fs from 'node:fs';
import { REFUSAL, SecurityError, UsageError } from '../errors.js';

/** The first line of every export (a valid header field: the file stays a mail). */
export const EXPORT_MARKER = 'X-RDS-Export: 1';
/** Larger exports are refused on both sides (read whole into memory, like a mail). */
export const EXPORT_MAX_BYTES = 1024 ** 3;
export const EXPORT_EXTENSION = '.rdsx';

export function exportFileName(softwareVersion: string, agentId: string): string {
  return `update-${softwareVersion}-${agentId}${EXPORT_EXTENSION}`;
}

/** The file's bytes: the marker line, then the mail. */
export function toExportFile(mail: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${EXPORT_MARKER}\r\n`, 'latin1'), mail]);
}

/** Whether `head` (the file's first bytes) starts like an export; a `.rdsu` is binary OpenPGP and never does. */
export function isExportFile(head: Uint8Array): boolean {
  const start = Buffer.from(head.subarray(0, EXPORT_MARKER.length + 2)).toString('latin1');
  return start === `${EXPORT_MARKER}\r\n` || start.startsWith(`${EXPORT_MARKER}\n`);
}

/** The first bytes of FILE (enough for isExportFile). */
export function readHead(file: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new UsageError('PACKAGE_UNREADABLE', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`, { cause: error });
  }
  try {
    const head = Buffer.alloc(64);
    return head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/** The whole export, refused (OVERSIZE) over EXPORT_MAX_BYTES before it is read. */
export function readExportFile(file: string): Buffer {
  const size = fs.statSync(file).size;
  if (size > EXPORT_MAX_BYTES) {
    throw new SecurityError(REFUSAL.OVERSIZE, `exported update ${file} is ${size} bytes, over the ${EXPORT_MAX_BYTES}-byte maximum`);
  }
  return fs.readFileSync(file);
}
