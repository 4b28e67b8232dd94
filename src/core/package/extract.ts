import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { REFUSAL, SecurityError, TransientError } from '../errors.js';
import { MANIFEST_NAME, type UpdateManifest, validateManifest } from './manifest.js';
import { parseModeText } from './modes.js';

/**
 * A full disk (or quota) while the agent writes its stage is no fault of the package and no
 * bug: a clear transient error (exit 3; an update mail stays in INBOX for the next pass),
 * instead of an uncaught ENOSPC with a stack trace, or a "tampered package" refusal.
 */
export function diskFullError(error: unknown, dir: string): TransientError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  return new TransientError(
    'DISK_FULL',
    `no space left on the device of ${dir} (${code}) while unpacking the update; nothing was installed, free some space and try again`,
    { cause: error },
  );
}

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

function refuse(code: (typeof REFUSAL)[keyof typeof REFUSAL], message: string): never {
  throw new SecurityError(code, message);
}

/** A relative path that stays inside the stage: no absolute path, no `..`, no NUL. */
export function checkEntryPath(raw: string): string {
  if (raw.length === 0 || raw.includes('\0')) refuse(REFUSAL.PACKAGE_UNSAFE_PATH, `entry with an empty or NUL path`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.startsWith('\\')) {
    refuse(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${raw}' has an absolute path`);
  }
  const parts = raw.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) refuse(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${raw}' climbs out with '..'`);
  if (parts.length === 0) refuse(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${raw}' names the stage itself`);
  return parts.join('/');
}

export interface ExtractResult {
  manifest: UpdateManifest;
  files: Record<string, string>;
  totalBytes: number;
}

/**
 * Unpack a verified gzip'd tar into `stageDir` (which must not exist yet), refusing
 * every way an archive can write outside its folder or exhaust the box: `..` and
 * absolute paths, symlinks that leave the stage (any target with `..` or absolute),
 * entries beneath a symlink, hardlinks, devices and fifos, duplicates, and size or
 * ratio beyond the limits. Then every file's SHA-256 is checked against the manifest,
 * which must list exactly the files present.
 */
export async function extractPackage(
  tarGz: string,
  stageDir: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
  onManifest?: (manifest: UpdateManifest) => void,
): Promise<ExtractResult> {
  const compressed = fs.statSync(tarGz).size;
  fs.mkdirSync(stageDir, { mode: 0o700 });
  const seen = new Set<string>();
  const links = new Set<string>();
  const files: Record<string, string> = {};
  const writes: Promise<void>[] = [];
  let manifest: UpdateManifest | undefined;
  let total = 0;
  let count = 0;
  let failure: unknown;

  const checkTotals = (added: number) => {
    total += added;
    if (total > limits.maxTotalBytes) refuse(REFUSAL.PACKAGE_TOO_LARGE, `package unpacks to more than ${limits.maxTotalBytes} bytes`);
    if (total > limits.ratioFloorBytes && total / Math.max(compressed, 1) > limits.maxRatio) {
      refuse(REFUSAL.PACKAGE_TOO_LARGE, `package expands more than ${limits.maxRatio}x (decompression bomb)`);
    }
  };

  const onEntry = (entry: tar.ReadEntry) => {
    if (failure) return entry.resume();
    try {
      if (++count > limits.maxEntries) refuse(REFUSAL.PACKAGE_TOO_LARGE, `package has more than ${limits.maxEntries} entries`);
      const rel = checkEntryPath(entry.path);
      if (seen.has(rel)) refuse(REFUSAL.PACKAGE_DUPLICATE_ENTRY, `entry '${rel}' appears twice`);
      seen.add(rel);
      const parts = rel.split('/');
      for (let i = 1; i < parts.length; i++) {
        if (links.has(parts.slice(0, i).join('/'))) refuse(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${rel}' lies beneath a symlink`);
      }
      if (count === 1 && rel !== MANIFEST_NAME) refuse(REFUSAL.PACKAGE_MANIFEST_INVALID, `first entry is '${rel}', not ${MANIFEST_NAME}`);
      const target = path.join(stageDir, rel);
      switch (entry.type) {
        case 'Directory':
          // inner folders are traversable like the files' modes assume; the stage itself is 0700
          fs.mkdirSync(target, { recursive: true, mode: 0o755 });
          return entry.resume();
        case 'SymbolicLink': {
          const to = entry.linkpath ?? '';
          if (to === '' || path.isAbsolute(to) || to.split(/[\\/]+/).includes('..')) {
            refuse(REFUSAL.PACKAGE_UNSAFE_PATH, `symlink '${rel}' points outside the stage ('${to}')`);
          }
          fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
          fs.symlinkSync(to, target);
          links.add(rel);
          return entry.resume();
        }
        case 'File':
        case 'OldFile':
        case 'ContiguousFile':
          break;
        default:
          refuse(REFUSAL.PACKAGE_UNSAFE_ENTRY, `entry '${rel}' is a ${entry.type} (only files, folders and inner symlinks are allowed)`);
      }
      checkTotals(entry.size ?? 0);
      if (rel === MANIFEST_NAME) {
        if ((entry.size ?? 0) > limits.maxManifestBytes) refuse(REFUSAL.PACKAGE_MANIFEST_INVALID, 'manifest is too large');
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch (error) {
            failure ??= new SecurityError(REFUSAL.PACKAGE_MANIFEST_INVALID, `manifest is not valid JSON: ${(error as Error).message}`);
            return;
          }
          try {
            manifest = validateManifest(parsed);
            onManifest?.(manifest);
          } catch (error) {
            failure ??= error; // a refusal of the manifest, or the caller's own decision (already installed)
          }
        });
        return;
      }
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      // written owner-only; the manifest's modes are applied once every hash checked out
      const mode = (entry.mode ?? 0) & 0o111 ? 0o700 : 0o600;
      const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
      const hash = createHash('sha256');
      writes.push(
        new Promise<void>((resolve) => {
          let writeFailed = false;
          entry.on('data', (chunk: Buffer) => {
            if (writeFailed) return;
            hash.update(chunk);
            // a throw here would escape the tar parser as an uncaught exception (ENOSPC)
            try {
              fs.writeSync(fd, chunk);
            } catch (error) {
              writeFailed = true;
              failure ??= error;
            }
          });
          entry.on('end', () => {
            fs.closeSync(fd);
            files[rel] = hash.digest('hex');
            resolve();
          });
        }),
      );
    } catch (error) {
      // an entry beneath a file, or a file where a folder is (EEXIST, ENOTDIR, EISDIR, ELOOP):
      // the archive's own layout, so a refusal, not a crash (which would leave the mail in the
      // inbox to crash every later pass)
      const fsCode = (error as NodeJS.ErrnoException).code;
      failure ??=
        fsCode === 'EEXIST' || fsCode === 'ENOTDIR' || fsCode === 'EISDIR' || fsCode === 'ELOOP'
          ? new SecurityError(REFUSAL.PACKAGE_UNSAFE_PATH, `entry '${entry.path}' does not fit the stage (${fsCode})`, { cause: error })
          : error;
      entry.resume();
    }
  };

  await new Promise<void>((resolve, reject) => {
    const parser = new tar.Parser({ strict: true, onReadEntry: onEntry, maxMetaEntrySize: 64 * 1024 });
    parser.on('error', reject);
    parser.on('close', () => resolve());
    const input = fs.createReadStream(tarGz);
    input.on('error', reject);
    input.pipe(parser as unknown as NodeJS.WritableStream);
  }).catch((error) => {
    // whatever the gzip or tar parser throws is damage, not a crash (fuzzing found more than
    // the messages once listed here: TAR_ENTRY_INVALID checksum failures, 'invalid base256
    // encoding'); only an error of reading the file itself (it has a syscall) is not
    failure ??=
      (error as NodeJS.ErrnoException)?.syscall === undefined
        ? new SecurityError(REFUSAL.PACKAGE_TRUNCATED, `package archive is damaged: ${(error as Error)?.message ?? String(error)}`)
        : error;
  });
  await Promise.all(writes);
  if (failure) throw diskFullError(failure, stageDir) ?? failure;
  if (!manifest) refuse(REFUSAL.PACKAGE_MANIFEST_INVALID, `package has no ${MANIFEST_NAME}`);
  checkHashes(manifest, files);
  applyModes(manifest, stageDir);
  return { manifest, files, totalBytes: total };
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
  for (const [file, hash] of Object.entries(manifest.files)) {
    const actual = files[file];
    if (actual === undefined) refuse(REFUSAL.PACKAGE_MANIFEST_INVALID, `manifest lists '${file}', which the package does not hold`);
    if (actual !== hash)
      refuse(REFUSAL.PACKAGE_HASH_MISMATCH, `'${file}' has SHA-256 ${actual.slice(0, 12)}…, manifest says ${hash.slice(0, 12)}…`);
  }
  for (const file of Object.keys(files)) {
    if (!(file in manifest.files)) refuse(REFUSAL.PACKAGE_MANIFEST_INVALID, `package holds '${file}', which the manifest does not list`);
  }
}
