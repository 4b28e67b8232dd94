/**
 * The gzip layer of an update package, tuned for what packages hold. Measured on a 50 MB
 * module (bench/package.mjs): deflate burns ~1.4 s of CPU on data that does not shrink
 * (firmware images, archives, media) at any level, while storing it costs a fraction;
 * and openpgp.js spends most of its time per stream chunk, so bigger chunks into the
 * encryption make both packing and every agent's decryption faster.
 */
import fs from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import zlib from 'node:zlib';

export const GZIP_DEFAULT_LEVEL = 6;
export const GZIP_STORE_LEVEL = 0;
/** below this estimated saving, deflating is not worth its CPU on the host and the agents */
const MIN_SAVING = 0.02;
const SAMPLE_BYTES = 64 * 1024;
/** chunk size handed to openpgp.encrypt (it frames partial packets per chunk) */
export const ENCRYPT_CHUNK_BYTES = 1024 * 1024;

function sampleRatio(file: string, size: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const offsets = size <= 3 * SAMPLE_BYTES ? [0] : [0, Math.floor(size / 2), size - SAMPLE_BYTES];
    let raw = 0;
    let packed = 0;
    for (const offset of offsets) {
      const buffer = Buffer.alloc(Math.min(SAMPLE_BYTES * (offsets.length === 1 ? 3 : 1), size));
      const n = fs.readSync(fd, buffer, 0, buffer.length, offset);
      raw += n;
      packed += zlib.deflateRawSync(buffer.subarray(0, n), { level: 1 }).length;
    }
    return raw === 0 ? 1 : packed / raw;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Deflate level for a package of these files: the default, unless samples (start, middle,
 * end of each file, deflated at level 1) say the whole would shrink by less than 2%; then
 * store (level 0: still a valid gzip stream, as docs/formats.md#update-package-rdsu asks).
 */
export function chooseGzipLevel(files: string[]): number {
  let total = 0;
  let saving = 0;
  for (const file of files) {
    const size = fs.statSync(file).size;
    if (size === 0) continue;
    total += size;
    saving += size * Math.max(0, 1 - sampleRatio(file, size));
  }
  return total === 0 || saving / total >= MIN_SAVING ? GZIP_DEFAULT_LEVEL : GZIP_STORE_LEVEL;
}

async function* inChunks(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    length += chunk.length;
    if (length >= size) {
      yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
      parts = [];
      length = 0;
    }
  }
  if (length > 0) yield Buffer.concat(parts, length);
}

/**
 * gzip `tarStream` in libuv's thread pool (node:zlib streams; tar's own gzip runs
 * synchronously on the main thread, serialising it with the encryption), and hand it on
 * in chunks of ENCRYPT_CHUNK_BYTES.
 */
export function gzipInChunks(tarStream: AsyncIterable<Buffer>, level: number): Readable {
  const gzip = zlib.createGzip({ level, chunkSize: 256 * 1024 });
  pipeline(Readable.from(tarStream, { objectMode: false }), gzip, () => {
    /* an error reaches the consumer through gzip, which pipeline destroys with it */
  });
  return Readable.from(inChunks(gzip, ENCRYPT_CHUNK_BYTES), { objectMode: false, highWaterMark: 2 });
}
