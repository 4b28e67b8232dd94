/**
 * The I/O half of unpacking (extract.ts decides each entry): a gzip'd tar fed to the tar
 * parser chunk by chunk — as it is decrypted (stage-package.ts: the archive is never
 * written out and read back) or read from a file (`extractPackage`) — and each accepted
 * entry written into the stage as it streams, each file hashed in the same pass that
 * writes it.
 *
 * The verdict is the one a parse of the whole archive in order gives: each failure is noted
 * with the number of entries seen when it happened, and the earliest wins. While the
 * archive streams in as it is decrypted its exact size is not known yet, so the ratio guard
 * (extract.ts `sizeRefusal`) first runs against a bound no smaller than it (the package's
 * size: a refusal against the bound is a refusal against the size); once the archive ended,
 * the running totals are checked against its exact size, and an entry refused then is the
 * failure if it came first.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { diskFullError, REFUSAL, SecurityError } from '../errors.js';
import {
  checkEntry,
  checkHashes,
  DEFAULT_EXTRACT_LIMITS,
  type EntryHeader,
  type EntryPlan,
  type ExtractLimits,
  type ExtractResult,
  type ManifestDecision,
  newLedger,
  noteEntry,
  type StageLedger,
  sizeRefusal,
} from './extract.js';
import { MANIFEST_NAME, type UpdateManifest, validateManifest } from './manifest.js';
import { parseModeText } from './modes.js';

/** Reads of an archive file (`extractPackage`). */
const READ_BYTES = 1024 * 1024;

interface Failure {
  /** entries seen when it happened */
  at: number;
  error: unknown;
}

/** One extraction's progress (what the entry handler shares with the end of the parse). */
interface Extraction {
  stageDir: string;
  limits: ExtractLimits;
  onManifest?: (manifest: UpdateManifest) => ManifestDecision;
  ledger: StageLedger;
  files: Record<string, string>;
  writes: Promise<void>[];
  /** files still being written: closed at their entry's end, or when the extraction is given up */
  open: Set<() => void>;
  /** the running total after each file accepted, and where (the ratio guard against the exact size) */
  totals: { at: number; total: number }[];
  manifest?: UpdateManifest;
  stopped: boolean;
  /** given up (the decrypt failed): whatever the parser still emits is dropped */
  abandoned: boolean;
  failure?: Failure;
}

/** Note a failure; the earliest in the archive's order wins (at equal places, the first noted). */
function fail(x: Extraction, error: unknown, at = x.ledger.entries): void {
  if (!x.failure || at < x.failure.at) x.failure = { at, error };
}

/** An error of a file being written, ended because the extraction was given up (not a verdict). */
const ABANDONED = new Error('extraction abandoned');

/**
 * Unpack a gzip'd tar, fed with `write` as it comes, into `stageDir` (which must not exist
 * yet), refusing every way an archive can write outside its folder or exhaust the box:
 * `..` and absolute paths, symlinks that leave the stage (any target with `..` or
 * absolute), entries beneath a symlink, hardlinks, devices and fifos, duplicates, and size
 * or ratio beyond the limits. `end` then checks every file's SHA-256 against the manifest,
 * which must list exactly the files present. `onManifest` may refuse (throw) or stop the
 * extraction once the manifest is read; a stop is returned, not thrown.
 */
export class Extractor {
  private readonly x: Extraction;
  private readonly parser: tar.Parser;
  private readonly finished: Promise<void>;
  private done = false;
  private wake: (() => void) | undefined;

  /** `compressedBound`: the archive's size, or a bound no smaller than it (the exact size comes to `end`) */
  constructor(
    stageDir: string,
    compressedBound: number,
    limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
    onManifest?: (manifest: UpdateManifest) => ManifestDecision,
  ) {
    fs.mkdirSync(stageDir, { mode: 0o700 });
    const x: Extraction = {
      stageDir,
      limits,
      onManifest,
      ledger: newLedger(compressedBound),
      files: {},
      writes: [],
      open: new Set(),
      totals: [],
      stopped: false,
      abandoned: false,
    };
    this.x = x;
    this.parser = new tar.Parser({ strict: true, onReadEntry: (entry) => onEntry(x, entry), maxMetaEntrySize: 64 * 1024 });
    this.finished = new Promise<void>((resolve) => {
      const finish = () => {
        this.done = true;
        this.wake?.();
        resolve();
      };
      // whatever the gzip or tar parser throws is damage, not a crash (fuzzing found more than
      // the messages once listed here: TAR_ENTRY_INVALID checksum failures, 'invalid base256
      // encoding'); only an error of the file system (it has a syscall) is not
      this.parser.on('error', (error: Error) => {
        fail(x, (error as NodeJS.ErrnoException)?.syscall === undefined ? damaged(error) : error);
        finish();
      });
      this.parser.on('close', finish);
    });
    this.parser.on('drain', () => this.wake?.());
  }

  /** The next bytes of the archive; resolves when the parser takes more. Never throws: a failure is the verdict of `end`. */
  async write(chunk: Buffer): Promise<void> {
    const { x } = this;
    // after a failure or a stop the rest of the archive changes nothing
    if (this.done || x.failure || x.stopped || x.abandoned) return;
    if (this.parser.write(chunk) || this.done) return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    this.wake = undefined;
  }

  /**
   * The archive ended, `compressedBytes` long: the verdict. The extraction's result, or its
   * refusal thrown (a disk full while writing as DISK_FULL, transient).
   */
  async end(compressedBytes: number): Promise<ExtractResult> {
    const { x } = this;
    if (!this.done) this.parser.end();
    await this.finished;
    this.closeOpen(); // a file the parser left half way (a damaged archive)
    await Promise.all(x.writes);
    if (x.stopped && x.manifest) return { kind: 'stopped', manifest: x.manifest };
    this.exactRatio(compressedBytes);
    if (x.failure) throw diskFullError(x.failure.error, x.stageDir) ?? x.failure.error;
    const manifest = x.manifest;
    if (!manifest) throw new SecurityError(REFUSAL.PACKAGE_MANIFEST_INVALID, `package has no ${MANIFEST_NAME}`);
    checkHashes(manifest, x.files);
    applyModes(manifest, x.stageDir);
    return { kind: 'extracted', manifest, files: x.files, totalBytes: x.ledger.totalBytes };
  }

  /** Give up (the package failed its checks): every file being written is closed, the rest is dropped. The caller removes the stage. */
  abandon(): void {
    this.x.abandoned = true;
    this.closeOpen();
  }

  private closeOpen(): void {
    for (const close of [...this.x.open]) close();
  }

  /** The ratio guard against the exact size, when the bound was larger: the first entry it refuses, if it came first. */
  private exactRatio(compressedBytes: number): void {
    const { x } = this;
    if (compressedBytes >= x.ledger.compressedBytes) return;
    const exact = { ...x.ledger, compressedBytes };
    for (const { at, total } of x.totals) {
      const tooLarge = sizeRefusal(total, exact, x.limits);
      if (!tooLarge) continue;
      // checked at the entry's header, before anything else that entry could fail
      if (!x.failure || at <= x.failure.at) x.failure = { at, error: new SecurityError(tooLarge.refuse.code, tooLarge.refuse.reason) };
      return;
    }
  }
}

const damaged = (error: unknown) =>
  new SecurityError(REFUSAL.PACKAGE_TRUNCATED, `package archive is damaged: ${(error as Error)?.message ?? String(error)}`);

/**
 * Unpack a gzip'd tar file into `stageDir` (which must not exist yet), as `Extractor` does,
 * its size exact from the start.
 */
export async function extractPackage(
  tarGz: string,
  stageDir: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
  onManifest?: (manifest: UpdateManifest) => ManifestDecision,
): Promise<ExtractResult> {
  const compressed = fs.statSync(tarGz).size;
  const extractor = new Extractor(stageDir, compressed, limits, onManifest);
  const handle = await fs.promises.open(tarGz, 'r');
  try {
    for (;;) {
      // a buffer per read: the parser may keep what it was given
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, null);
      if (bytesRead === 0) break;
      await extractor.write(buffer.subarray(0, bytesRead));
    }
  } catch (error) {
    extractor.abandon();
    throw error;
  } finally {
    await handle.close();
  }
  return extractor.end(compressed);
}

const headerOf = (entry: tar.ReadEntry): EntryHeader => ({
  path: entry.path,
  type: entry.type,
  size: entry.size ?? 0,
  mode: entry.mode ?? 0,
  linkpath: entry.linkpath ?? '',
});

/** Check one entry, then write it; after the first failure or a stop, skip the rest. */
function onEntry(x: Extraction, entry: tar.ReadEntry): void {
  if (x.failure || x.stopped || x.abandoned) {
    entry.resume();
    return;
  }
  const verdict = checkEntry(headerOf(entry), x.ledger, x.limits);
  noteEntry(x.ledger, 'accept' in verdict ? verdict.accept : undefined);
  if ('refuse' in verdict) {
    fail(x, new SecurityError(verdict.refuse.code, verdict.refuse.reason));
    entry.resume();
    return;
  }
  const plan = verdict.accept;
  if (plan.kind === 'file' || plan.kind === 'manifest') x.totals.push({ at: x.ledger.entries, total: x.ledger.totalBytes });
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
    fail(
      x,
      fsCode === 'EEXIST' || fsCode === 'ENOTDIR' || fsCode === 'EISDIR' || fsCode === 'ELOOP'
        ? new SecurityError(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${entry.path}' does not fit the stage (${fsCode})`, { cause: error })
        : error,
    );
    entry.resume();
  }
}

/** Write a file (its open's errors thrown at once), its hash kept, a write error the extraction's failure. */
function storeFile(x: Extraction, plan: Extract<EntryPlan, { kind: 'file' }>, entry: tar.ReadEntry): Promise<void> {
  const at = x.ledger.entries;
  return writeFile(x.stageDir, plan, entry, x.open).then(
    (hash) => {
      x.files[plan.rel] = hash;
    },
    (error: unknown) => {
      if (error !== ABANDONED) fail(x, error, at);
    },
  );
}

/** Read, parse and validate the manifest; then ask the caller whether to go on. */
function readManifest(x: Extraction, entry: tar.ReadEntry): void {
  const chunks: Buffer[] = [];
  const at = x.ledger.entries;
  entry.on('data', (c: Buffer) => chunks.push(c));
  entry.on('end', () => {
    if (x.abandoned) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      fail(x, new SecurityError(REFUSAL.PACKAGE_MANIFEST_INVALID, `manifest is not valid JSON: ${(error as Error).message}`), at);
      return;
    }
    try {
      x.manifest = validateManifest(parsed);
      if (x.onManifest?.(x.manifest) === 'stop') x.stopped = true;
    } catch (error) {
      fail(x, error, at); // a refusal of the manifest, or of the caller (wrong version, downgrade)
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
 * Until then its closing is in `open` (called when the extraction is given up: rejects
 * with ABANDONED).
 */
export function writeFile(
  stageDir: string,
  plan: Extract<EntryPlan, { kind: 'file' }>,
  entry: NodeJS.EventEmitter,
  open: Set<() => void>,
): Promise<string> {
  const target = path.join(stageDir, plan.rel);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  const mode = plan.executable ? 0o700 : 0o600;
  const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
  const hash = createHash('sha256');
  return new Promise<string>((resolve, reject) => {
    let writeError: unknown;
    let closed = false;
    const abandon = () => close(ABANDONED);
    const close = (error?: unknown) => {
      if (closed) return false;
      closed = true;
      open.delete(abandon);
      fs.closeSync(fd);
      if (error) reject(error);
      return true;
    };
    open.add(abandon);
    entry.on('data', (chunk: Buffer) => {
      if (writeError || closed) return;
      hash.update(chunk);
      // a throw here would escape the tar parser as an uncaught exception (ENOSPC)
      try {
        fs.writeSync(fd, chunk);
      } catch (error) {
        writeError = error;
      }
    });
    entry.on('end', () => {
      if (!close(writeError)) return;
      if (!writeError) resolve(hash.digest('hex'));
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
