/**
 * Unpacking an update package into the stage, in two halves: `checkEntry` here decides each
 * tar entry from its header and what came before (pure, no I/O: accept with a plan, or
 * refuse with the reason code), and the extractor (extractor.ts) feeds the archive through
 * the tar parser and does the I/O of an accepted entry (folders, inner symlinks, files
 * created O_EXCL|O_NOFOLLOW owner-only and hashed as they stream).
 */
import path from 'node:path';
import { REFUSAL, type RefusalCode, SecurityError } from '../errors.js';
import { MANIFEST_NAME, type UpdateManifest } from './manifest.js';

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
  /**
   * size of the compressed archive, for the ratio guard; while the archive streams in as it
   * is decrypted, a bound no smaller than it (the package's size), the exact size once known
   */
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
export function sizeRefusal(total: number, ledger: StageLedger, limits: ExtractLimits): { refuse: EntryRefusal } | undefined {
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

/** The manifest lists exactly the files unpacked (`files`: path → SHA-256), each with its hash. */
export function checkHashes(manifest: UpdateManifest, files: Record<string, string>): void {
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
