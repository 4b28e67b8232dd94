/**
 * Unpacking a verified update package into the stage, in two halves: `checkEntry` decides
 * each tar entry from its header and what came before (pure, no I/O: accept with a plan, or
 * refuse with the reason code), and the writer does the I/O of an accepted entry (folders,
 * inner symlinks, files created O_EXCL|O_NOFOLLOW owner-only and hashed as they stream).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { diskFullError, REFUSAL, type RefusalCode, SecurityError } from '../errors.js';
import { MANIFEST_NAME, type UpdateManifest, validateManifest } from './manifest.js';
import { parseModeText } from './modes.js';

export interface ExtractLimits {
  /** total bytes of all files after decompression */
  maxTotalBytes: number;
  /** decompressed / compressed, once past `ratioFloorBytes` (zip-bomb guard) */
  maxRatio: number;
  ratioFloorBytes: number;
  maxEntries: number;
  maxManifestBytes: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxTotalBytes: 4 * 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 16 * 1024 ** 2,
  maxEntries: 100_000,
  maxManifestBytes: 1024 ** 2,
};

/** What the tar header of one entry says (the parser's `ReadEntry`, as plain data). */
export interface EntryHeader {
  path: string;
  type: string;
  size: number;
  mode: number;
  linkpath: string;
}

/** What the entries before this one added up to. */
export interface StageLedger {
  entries: number;
  totalBytes: number;
  /** size of the compressed archive, for the ratio guard */
  compressedBytes: number;
  seen: Set<string>;
  links: Set<string>;
}

/** How an accepted entry is written. */
export type EntryPlan =
  | { kind: 'directory'; rel: string }
  | { kind: 'symlink'; rel: string; target: string }
  | { kind: 'manifest'; rel: string; size: number }
  | { kind: 'file'; rel: string; size: number; executable: boolean };

export interface EntryRefusal {
  code: RefusalCode;
  reason: string;
}

export type EntryVerdict = { accept: EntryPlan } | { refuse: EntryRefusal };

const refusal = (code: RefusalCode, reason: string): { refuse: EntryRefusal } => ({ refuse: { code, reason } });

/** A relative path that stays inside the stage: no absolute path, no `..`, no NUL. */
export function checkEntryPath(raw: string): { rel: string } | { refuse: EntryRefusal } {
  if (raw.length === 0 || raw.includes('\0')) return refusal(REFUSAL.PACKAGE_UNSAFE_PATH, `entry with an empty or NUL path`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.startsWith('\\')) {
    return refusal(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${raw}' has an absolute path`);
  }
  const parts = raw.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return refusal(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${raw}' climbs out with '..'`);
  if (parts.length === 0) return refusal(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${raw}' names the stage itself`);
  return { rel: parts.join('/') };
}

/** The size guards: total bytes, and the ratio to the compressed size (decompression bomb). */
function sizeRefusal(total: number, ledger: StageLedger, limits: ExtractLimits): { refuse: EntryRefusal } | undefined {
  if (total > limits.maxTotalBytes) return refusal(REFUSAL.PACKAGE_TOO_LARGE, `package unpacks to more than ${limits.maxTotalBytes} bytes`);
  if (total > limits.ratioFloorBytes && total / Math.max(ledger.compressedBytes, 1) > limits.maxRatio) {
    return refusal(REFUSAL.PACKAGE_TOO_LARGE, `package expands more than ${limits.maxRatio}x (decompression bomb)`);
  }
  return undefined;
}

/**
 * Decide one entry, in this order: entry count, path, duplicate, beneath a symlink,
 * manifest first, entry type (only folders, inner symlinks and regular files), sizes.
 * Pure: it reads the ledger and never changes it (`noteEntry` does, once accepted).
 */
export function checkEntry(header: EntryHeader, ledger: StageLedger, limits: ExtractLimits): EntryVerdict {
  if (ledger.entries + 1 > limits.maxEntries)
    return refusal(REFUSAL.PACKAGE_TOO_LARGE, `package has more than ${limits.maxEntries} entries`);
  const checked = checkEntryPath(header.path);
  if ('refuse' in checked) return checked;
  const { rel } = checked;
  if (ledger.seen.has(rel)) return refusal(REFUSAL.PACKAGE_DUPLICATE_ENTRY, `entry '${rel}' appears twice`);
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    if (ledger.links.has(parts.slice(0, i).join('/'))) return refusal(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${rel}' lies beneath a symlink`);
  }
  if (ledger.entries === 0 && rel !== MANIFEST_NAME) {
    return refusal(REFUSAL.PACKAGE_MANIFEST_INVALID, `first entry is '${rel}', not ${MANIFEST_NAME}`);
  }
  switch (header.type) {
    case 'Directory':
      return { accept: { kind: 'directory', rel } };
    case 'SymbolicLink': {
      const to = header.linkpath;
      if (to === '' || path.isAbsolute(to) || to.split(/[\\/]+/).includes('..')) {
        return refusal(REFUSAL.PACKAGE_UNSAFE_PATH, `symlink '${rel}' points outside the stage ('${to}')`);
      }
      return { accept: { kind: 'symlink', rel, target: to } };
    }
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      break;
    default:
      return refusal(
        REFUSAL.PACKAGE_UNSAFE_ENTRY,
        `entry '${rel}' is a ${header.type} (only files, folders and inner symlinks are allowed)`,
      );
  }
  const tooLarge = sizeRefusal(ledger.totalBytes + header.size, ledger, limits);
  if (tooLarge) return tooLarge;
  if (rel === MANIFEST_NAME) {
    if (header.size > limits.maxManifestBytes) return refusal(REFUSAL.PACKAGE_MANIFEST_INVALID, 'manifest is too large');
    return { accept: { kind: 'manifest', rel, size: header.size } };
  }
  return { accept: { kind: 'file', rel, size: header.size, executable: (header.mode & 0o111) !== 0 } };
}

/** Count an entry in the ledger: every entry counts, an accepted one also by name, link and size. */
export function noteEntry(ledger: StageLedger, plan: EntryPlan | undefined): void {
  ledger.entries++;
  if (!plan) return;
  ledger.seen.add(plan.rel);
  if (plan.kind === 'symlink') ledger.links.add(plan.rel);
  if (plan.kind === 'file' || plan.kind === 'manifest') ledger.totalBytes += plan.size;
}

export function newLedger(compressedBytes: number): StageLedger {
  return { entries: 0, totalBytes: 0, compressedBytes, seen: new Set(), links: new Set() };
}

/** The caller's word on the manifest, as soon as it is read: go on unpacking, or stop (e.g. already installed). */
export type ManifestDecision = 'continue' | 'stop';

export type ExtractResult =
  | { kind: 'extracted'; manifest: UpdateManifest; files: Record<string, string>; totalBytes: number }
  | { kind: 'stopped'; manifest: UpdateManifest };

/** One extraction's progress (what the entry handler shares with the end of the parse). */
interface Extraction {
  stageDir: string;
  limits: ExtractLimits;
  onManifest?: (manifest: UpdateManifest) => ManifestDecision;
  ledger: StageLedger;
  files: Record<string, string>;
  writes: Promise<void>[];
  manifest?: UpdateManifest;
  stopped: boolean;
  failure?: unknown;
}

const headerOf = (entry: tar.ReadEntry): EntryHeader => ({
  path: entry.path,
  type: entry.type,
  size: entry.size ?? 0,
  mode: entry.mode ?? 0,
  linkpath: entry.linkpath ?? '',
});

/**
 * Unpack a verified gzip'd tar into `stageDir` (which must not exist yet), refusing
 * every way an archive can write outside its folder or exhaust the box: `..` and
 * absolute paths, symlinks that leave the stage (any target with `..` or absolute),
 * entries beneath a symlink, hardlinks, devices and fifos, duplicates, and size or
 * ratio beyond the limits. Then every file's SHA-256 is checked against the manifest,
 * which must list exactly the files present. `onManifest` may refuse (throw) or stop
 * the extraction once the manifest is read; a stop is returned, not thrown.
 */
export async function extractPackage(
  tarGz: string,
  stageDir: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
  onManifest?: (manifest: UpdateManifest) => ManifestDecision,
): Promise<ExtractResult> {
  const compressed = fs.statSync(tarGz).size;
  fs.mkdirSync(stageDir, { mode: 0o700 });
  const x: Extraction = { stageDir, limits, onManifest, ledger: newLedger(compressed), files: {}, writes: [], stopped: false };
  try {
    await parseTar(tarGz, (entry) => onEntry(x, entry));
  } catch (error) {
    // whatever the gzip or tar parser throws is damage, not a crash (fuzzing found more than
    // the messages once listed here: TAR_ENTRY_INVALID checksum failures, 'invalid base256
    // encoding'); only an error of reading the file itself (it has a syscall) is not
    x.failure ??=
      (error as NodeJS.ErrnoException)?.syscall === undefined
        ? new SecurityError(REFUSAL.PACKAGE_TRUNCATED, `package archive is damaged: ${(error as Error)?.message ?? String(error)}`)
        : error;
  }
  await Promise.all(x.writes);
  if (x.stopped && x.manifest) return { kind: 'stopped', manifest: x.manifest };
  if (x.failure) throw diskFullError(x.failure, stageDir) ?? x.failure;
  const manifest = x.manifest;
  if (!manifest) throw new SecurityError(REFUSAL.PACKAGE_MANIFEST_INVALID, `package has no ${MANIFEST_NAME}`);
  checkHashes(manifest, x.files);
  applyModes(manifest, stageDir);
  return { kind: 'extracted', manifest, files: x.files, totalBytes: x.ledger.totalBytes };
}

function parseTar(tarGz: string, onReadEntry: (entry: tar.ReadEntry) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const parser = new tar.Parser({ strict: true, onReadEntry, maxMetaEntrySize: 64 * 1024 });
    parser.on('error', reject);
    parser.on('close', () => resolve());
    const input = fs.createReadStream(tarGz, { highWaterMark: 1024 * 1024 });
    input.on('error', reject);
    input.pipe(parser as unknown as NodeJS.WritableStream);
  });
}

/** Check one entry, then write it; after the first failure or a stop, skip the rest. */
function onEntry(x: Extraction, entry: tar.ReadEntry): void {
  if (x.failure || x.stopped) {
    entry.resume();
    return;
  }
  const verdict = checkEntry(headerOf(entry), x.ledger, x.limits);
  noteEntry(x.ledger, 'accept' in verdict ? verdict.accept : undefined);
  if ('refuse' in verdict) {
    x.failure = new SecurityError(verdict.refuse.code, verdict.refuse.reason);
    entry.resume();
    return;
  }
  const plan = verdict.accept;
  try {
    if (plan.kind === 'manifest') readManifest(x, entry);
    else if (plan.kind === 'file') x.writes.push(storeFile(x, plan, entry));
    else {
      writeEntry(x.stageDir, plan);
      entry.resume();
    }
  } catch (error) {
    // an entry beneath a file, or a file where a folder is (EEXIST, ENOTDIR, EISDIR, ELOOP):
    // the archive's own layout, so a refusal, not a crash (which would leave the mail in the
    // inbox to crash every later pass)
    const fsCode = (error as NodeJS.ErrnoException).code;
    x.failure ??=
      fsCode === 'EEXIST' || fsCode === 'ENOTDIR' || fsCode === 'EISDIR' || fsCode === 'ELOOP'
        ? new SecurityError(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${entry.path}' does not fit the stage (${fsCode})`, { cause: error })
        : error;
    entry.resume();
  }
}

/** Write a file (its open's errors thrown at once), its hash kept, a write error the extraction's failure. */
function storeFile(x: Extraction, plan: Extract<EntryPlan, { kind: 'file' }>, entry: tar.ReadEntry): Promise<void> {
  return writeFile(x.stageDir, plan, entry).then(
    (hash) => {
      x.files[plan.rel] = hash;
    },
    (error: unknown) => {
      x.failure ??= error;
    },
  );
}

/** Read, parse and validate the manifest; then ask the caller whether to go on. */
function readManifest(x: Extraction, entry: tar.ReadEntry): void {
  const chunks: Buffer[] = [];
  entry.on('data', (c: Buffer) => chunks.push(c));
  entry.on('end', () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      x.failure ??= new SecurityError(REFUSAL.PACKAGE_MANIFEST_INVALID, `manifest is not valid JSON: ${(error as Error).message}`);
      return;
    }
    try {
      x.manifest = validateManifest(parsed);
      if (x.onManifest?.(x.manifest) === 'stop') x.stopped = true;
    } catch (error) {
      x.failure ??= error; // a refusal of the manifest, or of the caller (wrong version, downgrade)
    }
  });
}

/** The I/O of an accepted folder or inner symlink. */
export function writeEntry(stageDir: string, plan: Extract<EntryPlan, { kind: 'directory' | 'symlink' }>): void {
  const target = path.join(stageDir, plan.rel);
  if (plan.kind === 'directory') {
    // inner folders are traversable like the files' modes assume; the stage itself is 0700
    fs.mkdirSync(target, { recursive: true, mode: 0o755 });
    return;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  fs.symlinkSync(plan.target, target);
}

/**
 * Create an accepted file (O_EXCL|O_NOFOLLOW, owner-only: the manifest's modes are applied
 * once every hash checked out) and stream the entry into it; resolves to its SHA-256. The
 * open's errors are thrown at once; a write error (ENOSPC) rejects once the entry ended.
 */
export function writeFile(stageDir: string, plan: Extract<EntryPlan, { kind: 'file' }>, entry: NodeJS.EventEmitter): Promise<string> {
  const target = path.join(stageDir, plan.rel);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  const mode = plan.executable ? 0o700 : 0o600;
  const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
  const hash = createHash('sha256');
  return new Promise<string>((resolve, reject) => {
    let writeError: unknown;
    entry.on('data', (chunk: Buffer) => {
      if (writeError) return;
      hash.update(chunk);
      // a throw here would escape the tar parser as an uncaught exception (ENOSPC)
      try {
        fs.writeSync(fd, chunk);
      } catch (error) {
        writeError = error;
      }
    });
    entry.on('end', () => {
      fs.closeSync(fd);
      if (writeError) reject(writeError);
      else resolve(hash.digest('hex'));
    });
  });
}

/**
 * Give each file the mode the (validated, signed) manifest records; packages made before
 * modes existed keep the tar header's executable bit only (0700 or 0600). Every path is a
 * regular file this extraction created (O_EXCL, O_NOFOLLOW, never beneath a symlink).
 */
function applyModes(manifest: UpdateManifest, stageDir: string): void {
  for (const [file, text] of Object.entries(manifest.modes ?? {})) fs.chmodSync(path.join(stageDir, file), parseModeText(text));
}

function checkHashes(manifest: UpdateManifest, files: Record<string, string>): void {
  const invalid = (message: string): never => {
    throw new SecurityError(REFUSAL.PACKAGE_MANIFEST_INVALID, message);
  };
  for (const [file, hash] of Object.entries(manifest.files)) {
    const actual = files[file];
    if (actual === undefined) invalid(`manifest lists '${file}', which the package does not hold`);
    if (actual !== hash) {
      throw new SecurityError(
        REFUSAL.PACKAGE_HASH_MISMATCH,
        `'${file}' has SHA-256 ${actual?.slice(0, 12)}…, manifest says ${hash.slice(0, 12)}…`,
      );
    }
  }
  for (const file of Object.keys(files)) {
    if (!(file in manifest.files)) invalid(`package holds '${file}', which the manifest does not list`);
  }
}
