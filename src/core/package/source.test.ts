import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSource, joinedSource, READ_CHUNK_BYTES } from './source.js';

let dir: string;
let n = 0;
const file = (data: Buffer) => {
  const p = path.join(dir, `${++n}.part`);
  fs.writeFileSync(p, data);
  return p;
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-source-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What a reader that uses each chunk before asking for the next sees (a reused buffer is copied at once). */
async function readAll(chunks: AsyncGenerator<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(Buffer.from(chunk));
  return Buffer.concat(out);
}

describe('package source', () => {
  it('joined: prefix ‖ files in order, from any start, reused buffer or not, and its head (property)', async () => {
    let reached = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        async (prefix, sizes, startSeed, headSeed, reuse) => {
          const parts = sizes.map((s) => randomBytes(s));
          const whole = Buffer.concat([Buffer.from(prefix), ...parts]);
          const source = joinedSource(prefix, parts.map(file), 'test');
          const start = startSeed % (whole.length + 1);
          const head = headSeed % (whole.length + 10);
          expect((await readAll(source.chunks(start, reuse))).equals(whole.subarray(start))).toBe(true);
          expect(Buffer.from(source.head(head)).equals(whole.subarray(0, head))).toBe(true);
          reached++;
        },
      ),
      { numRuns: 60 },
    );
    expect(reached).toBe(60);
  });

  it('a file bigger than one read: chunks of READ_CHUNK_BYTES, the same bytes', async () => {
    const data = randomBytes(2 * READ_CHUNK_BYTES + 777);
    const source = fileSource(file(data));
    const sizes: number[] = [];
    const out: Buffer[] = [];
    for await (const chunk of source.chunks(5, false)) {
      sizes.push(chunk.length);
      out.push(chunk); // own buffers: kept as they are
    }
    expect(sizes).toEqual([READ_CHUNK_BYTES - 5, READ_CHUNK_BYTES, 777]);
    expect(Buffer.concat(out).equals(data.subarray(5))).toBe(true);
  });

  it('a part file that is a symlink is refused (O_NOFOLLOW); a package file named through one is read', async () => {
    const real = file(randomBytes(100));
    const link = path.join(dir, 'link.part');
    fs.symlinkSync(real, link);
    await expect(readAll(joinedSource(new Uint8Array(1), [link], 'test').chunks(0, false))).rejects.toThrow(/ELOOP/);
    expect(() => joinedSource(new Uint8Array(0), [link], 'test').head(10)).toThrow(/ELOOP/);
    expect((await readAll(fileSource(link).chunks(0, true))).equals(fs.readFileSync(real))).toBe(true);
  });
});
