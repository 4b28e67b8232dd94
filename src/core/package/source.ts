/**
 * Where a package's bytes come from when it is decrypted (unpack.ts): one file (an update
 * mail's attachment, `rds apply-update FILE`), or the session-key packets of an update's
 * part 1 followed by its part files in order (docs/install.md#update-parts). Reading the
 * parts straight into the decrypt spares writing, syncing and reading back a joined copy of
 * the whole package (issue 13: ~0.3 s of a 50 MB reassembly on a loaded box): the bytes the
 * decrypt sees are the same bytes, in the same order, and every check runs on them as before.
 */
import fs from 'node:fs';

/** Reads of the package: big enough that openpgp.js's per-chunk cost does not add up. */
export const READ_CHUNK_BYTES = 1024 * 1024;

export interface PackageSource {
  /** what to call it in messages */
  readonly name: string;
  /** up to `n` of its first octets */
  head(n: number): Uint8Array;
  /** how many octets it holds now (its files' sizes, never following a link) */
  size(): number;
  /**
   * Its octets from `start` to the end. `reuse`: every chunk is read into one buffer and is
   * valid only until the next is asked for (a reader that copies what it keeps); otherwise
   * each chunk is a buffer of its own.
   */
  chunks(start: number, reuse: boolean): AsyncGenerator<Buffer>;
}

/** A package file, or a source as it is. */
export type PackageInput = string | PackageSource;

export function packageSource(input: PackageInput): PackageSource {
  return typeof input === 'string' ? fileSource(input) : input;
}

/** One package file. */
export function fileSource(file: string): PackageSource {
  return joined(new Uint8Array(0), [file], file, fs.constants.O_RDONLY);
}

/** `prefix` ‖ files[0] ‖ files[1] ‖ …, read file by file (each opened O_NOFOLLOW when its turn comes). */
export function joinedSource(prefix: Uint8Array, files: string[], name: string): PackageSource {
  return joined(prefix, files, name, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
}

function joined(prefix: Uint8Array, files: string[], name: string, flags: number): PackageSource {
  return {
    name,
    head: (n) => readHead(prefix, files, n, flags),
    size: () => files.reduce((sum, file) => sum + fs.lstatSync(file).size, prefix.length),
    chunks: (start, reuse) => readJoined({ prefix, files, flags }, start, reuse),
  };
}

function readHead(prefix: Uint8Array, files: string[], n: number, flags: number): Uint8Array {
  const out = Buffer.allocUnsafe(n);
  let have = Math.min(prefix.length, n);
  out.set(prefix.subarray(0, have));
  for (const file of files) {
    if (have >= n) break;
    const fd = fs.openSync(file, flags);
    try {
      for (;;) {
        const got = fs.readSync(fd, out, have, n - have, null);
        if (got === 0) break;
        have += got;
        if (have >= n) break;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return out.subarray(0, have);
}

async function* readJoined(
  { prefix, files, flags }: { prefix: Uint8Array; files: string[]; flags: number },
  start: number,
  reuse: boolean,
): AsyncGenerator<Buffer> {
  let skip = start;
  if (skip < prefix.length) yield Buffer.from(prefix.subarray(skip));
  skip = Math.max(0, skip - prefix.length);
  const shared = reuse ? Buffer.allocUnsafe(READ_CHUNK_BYTES) : undefined;
  for (const file of files) {
    const handle = await fs.promises.open(file, flags);
    try {
      for (;;) {
        const buffer = shared ?? Buffer.allocUnsafe(READ_CHUNK_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        if (skip >= bytesRead) {
          skip -= bytesRead;
          continue;
        }
        yield buffer.subarray(skip, bytesRead);
        skip = 0;
      }
    } finally {
      await handle.close();
    }
  }
}
