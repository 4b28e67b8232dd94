import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseGzipLevel, ENCRYPT_CHUNK_BYTES, GZIP_DEFAULT_LEVEL, GZIP_STORE_LEVEL, gzipInChunks } from './gzip.js';

let dir: string;
const file = (name: string, data: Buffer | string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-gzip-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('gzip level', () => {
  it('stores what does not shrink, deflates what does', () => {
    const random = file('random.bin', randomBytes(1024 * 1024));
    const text = file('text.txt', Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join('\n'));
    const script = file('install.sh', '#!/bin/sh\ncp -R "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"\n');
    expect(chooseGzipLevel([random, script])).toBe(GZIP_STORE_LEVEL);
    expect(chooseGzipLevel([text, script])).toBe(GZIP_DEFAULT_LEVEL);
    expect(chooseGzipLevel([random, text])).toBe(GZIP_DEFAULT_LEVEL); // text saves > 2% of the whole
    expect(chooseGzipLevel([file('empty', '')])).toBe(GZIP_DEFAULT_LEVEL);
  });

  it('gzips in big chunks, and gunzip gives the input back', async () => {
    const input = randomBytes(3 * ENCRYPT_CHUNK_BYTES + 12345);
    const parts = [0, 100_000, 1_500_000, input.length].slice(1).map((end, i, ends) => input.subarray(i === 0 ? 0 : ends[i - 1], end));
    const chunks: Buffer[] = [];
    for await (const c of gzipInChunks(Readable.from(parts), GZIP_STORE_LEVEL)) chunks.push(c as Buffer);
    expect(chunks.slice(0, -1).every((c) => c.length >= ENCRYPT_CHUNK_BYTES)).toBe(true);
    expect(zlib.gunzipSync(Buffer.concat(chunks)).equals(input)).toBe(true);
  });
});
