/**
 * Update parts, host side (docs/protocol.md#update-parts): how big a part may be, and the
 * package's shared body cut into parts and hashed without holding it in memory.
 *
 * A part mail is its fixed share (headers, the text, the signed payload: part 1's carries
 * the agent's pkesk and every part's hash) plus the part's bytes in base64 lines of 76
 * characters (57 bytes) joined by CRLF. The fixed share is measured on a probe mail built
 * exactly like a real part 1 (see `partOverhead` in push-parts.ts); the part size is then
 * the largest whole number of base64 lines that fits what is left of the limit.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { UsageError } from '../errors.js';
import { MAX_PARTS_ON_WIRE } from '../protocol/update-part.js';

const LINE_CHARS = 76;
const LINE_BYTES = 57;

/** Bytes of `n` bytes as base64 in 76-character lines joined by CRLF (base64-lines.ts). */
export function base64LinesLength(n: number): number {
  const chars = 4 * Math.ceil(n / 3);
  const lines = Math.ceil(chars / LINE_CHARS);
  return chars + Math.max(0, lines - 1) * 2;
}

/** The largest part (whole 57-byte lines) whose base64 lines take at most `room` bytes; 0 when not even one line fits. */
export function largestPart(room: number): number {
  if (room < LINE_CHARS) return 0;
  return LINE_BYTES * Math.floor((room + 2) / (LINE_CHARS + 2));
}

export interface PartCut {
  /** bytes of every part but the last (the last holds the rest) */
  partSize: number;
  parts: number;
}

/**
 * How to cut a body of `bodySize` bytes so that every part mail fits `limit`, given the
 * fixed share of a part mail when the package has `n` parts (it grows with n: part 1 lists
 * every hash). The smallest n whose parts fit; throws when no part fits at all or when more
 * parts than the wire allows would be needed.
 */
export async function cutParts(bodySize: number, limit: number, overhead: (parts: number) => number | Promise<number>): Promise<PartCut> {
  let parts = 1;
  for (;;) {
    const fixed = await overhead(parts);
    const partSize = largestPart(limit - fixed);
    if (partSize <= 0) {
      throw new UsageError(
        'MAIL_TOO_LARGE',
        `a part mail's headers and signed payload alone take ${fixed} bytes, more than the ${limit}-byte mail size limit`,
      );
    }
    const need = Math.max(1, Math.ceil(bodySize / partSize));
    if (need > MAX_PARTS_ON_WIRE) {
      throw new UsageError(
        'TOO_MANY_PARTS',
        `the package would need ${need} parts of ${partSize} bytes at a ${limit}-byte mail size limit (at most ${MAX_PARTS_ON_WIRE})`,
      );
    }
    // overhead(need) <= overhead(parts) when need <= parts: the parts fit with the smaller list too
    if (need <= parts) return { partSize, parts: need };
    parts = need;
  }
}

/** Offset and length of part `n` (1-based) of a body cut at `partSize`. */
export function partRange(cut: PartCut & { bodyOffset: number; totalSize: number }, n: number): { offset: number; length: number } {
  const start = (n - 1) * cut.partSize;
  return { offset: cut.bodyOffset + start, length: Math.min(cut.partSize, cut.totalSize - start) };
}

/** The SHA-256 (hex) of every part, read in chunks of at most 1 MiB: memory flat in package size. */
export function hashParts(file: string, cut: PartCut & { bodyOffset: number; totalSize: number }): string[] {
  const chunk = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, cut.partSize)));
  const fd = fs.openSync(file, 'r');
  try {
    const hashes: string[] = [];
    for (let n = 1; n <= cut.parts; n++) {
      const { offset, length } = partRange(cut, n);
      const hash = createHash('sha256');
      for (let done = 0; done < length; ) {
        const got = fs.readSync(fd, chunk, 0, Math.min(chunk.length, length - done), offset + done);
        if (got === 0) throw new UsageError('PACKAGE_TRUNCATED', `package ${file} ended at byte ${offset + done}`);
        hash.update(chunk.subarray(0, got));
        done += got;
      }
      hashes.push(hash.digest('hex'));
    }
    return hashes;
  } finally {
    fs.closeSync(fd);
  }
}
