/**
 * The on-disk layout of the embedded backend: one Maildir per address under a root,
 *
 *   <root>/<address>/{tmp,new,cur}                       the inbox
 *   <root>/<address>/.rds-processed/{tmp,new,cur}        Maildir++ subfolders (what Dovecot
 *   <root>/<address>/.rds-quarantine/{tmp,new,cur}       and Courier call INBOX.rds-…)
 *   <root>/<address>/.rds-quarantine/rds-reasons/<base>.reason   why it was quarantined
 *
 * following D. J. Bernstein's Maildir spec (cr.yp.to/proto/maildir.html) and Courier's
 * Maildir++ for subfolders. The reasons live outside cur/new/tmp so that a mail reader
 * pointed at the same tree never mistakes them for mail. Directories are 0700 and files
 * 0600: the mail holds signed commands and update packages for this box only.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { mkdirNoFollow } from '../fs/trust.js';
import { checkFolderName } from './folders.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
export const REASONS_DIR = 'rds-reasons';

/**
 * The Maildir of `address` under `root`. The directory name is the address in lower case:
 * RFC 5321 §2.4 lets local parts be case-sensitive but discourages relying on it, and the
 * sender and the reader of a mailbox must agree on one spelling. An address is refused when
 * it could leave `root` (`/`, `\`, a leading dot, NUL): it comes from the network (RCPT TO).
 */
export function mailboxDir(root: string, address: string): string {
  const name = address.toLowerCase();
  const ok =
    name.length <= 254 && // RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its <>
    /^[^\s/\\@]+@[^\s/\\@]+$/.test(name) &&
    !name.startsWith('.') &&
    !name.includes('\0');
  if (!ok) {
    throw new UsageError('MAILDIR_BAD_ADDRESS', `"${address}" cannot name a mailbox (expected local@domain, no "/", "\\" or leading ".")`);
  }
  return path.join(root, name);
}

export function folderDir(mailbox: string, folder: string): string {
  return path.join(mailbox, `.${checkFolderName(folder)}`);
}

export async function ensureMaildir(dir: string, isSubfolder = false): Promise<void> {
  // every folder of the tree must be a real folder: a symlink planted for a mailbox (or its
  // tmp/new/cur) would send deliveries and settled mail somewhere else
  mkdirNoFollow(dir, DIR_MODE, 'Maildir');
  for (const sub of ['tmp', 'new', 'cur']) mkdirNoFollow(path.join(dir, sub), DIR_MODE, 'Maildir');
  // Maildir++: an empty `maildirfolder` file marks a subfolder (Courier, Dovecot).
  if (isSubfolder) {
    const marker = path.join(dir, 'maildirfolder');
    const fd = openSync(marker, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, FILE_MODE);
    closeSync(fd);
  }
}

const HOST = hostname().replace(/\//g, '\\057').replace(/:/g, '\\072');
let deliveries = 0;

/**
 * A unique file name per the Maildir spec: `<sec>.M<usec>P<pid>Q<count>R<random>.<host>`,
 * plus Maildir++'s `,S=<size>` so a reader knows the size without stat().
 */
export function uniqueName(size: number): string {
  const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  const sec = micros / 1_000_000n;
  const usec = micros % 1_000_000n;
  deliveries += 1;
  return `${sec}.M${usec}P${process.pid}Q${deliveries}R${randomBytes(4).toString('hex')}.${HOST},S=${size}`;
}

/** Orders file names oldest first by their leading `<sec>.M<usec>…Q<n>` (Dovecot's names too). */
export function compareArrival(a: string, b: string): number {
  const ka = arrivalKey(a);
  const kb = arrivalKey(b);
  for (let i = 0; i < 3; i++) {
    const d = (ka[i] ?? 0) - (kb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function arrivalKey(name: string): number[] {
  const match = /^(\d+)\.(?:M(\d+))?(?:P\d+)?(?:Q(\d+))?/.exec(name);
  if (!match) return [Number.MAX_SAFE_INTEGER, 0, 0];
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

/** The name without the `:2,<flags>` info part a file gains in cur/. */
export function baseName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(0, colon);
}
