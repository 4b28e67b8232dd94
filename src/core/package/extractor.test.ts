// The extractor fed chunk by chunk (as the decrypt hands it the archive, stage-package.ts)
// gives the verdict a parse of the whole archive file gives, however the archive is cut
// into chunks; the expansion guard, checked against a bound while the archive streams in,
// ends with the verdict of the archive's exact size (an entry it refuses wins over a later
// failure, never over an earlier one); and an extraction given up half way closes what it
// had open.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL, SecurityError } from '../errors.js';
import { caseTally } from '../testing.js';
import { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from './extract.js';
import { Extractor, extractPackage } from './extractor.js';
import { MANIFEST_FORMAT } from './manifest.js';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-extractor-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Entry {
  name: string;
  body?: Buffer | string;
  type?: string;
}

/** A ustar archive written byte by byte (it may hold what no tool writes: a `..` path). */
function tarOf(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 8, 'latin1');
    h.write('0000000\0', 108, 8, 'latin1');
    h.write('0000000\0', 116, 8, 'latin1');
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
    h.write('14000000000\0', 136, 12, 'latin1');
    h.fill(' ', 148, 156);
    h.write(e.type ?? '0', 156, 1, 'latin1');
    h.write('ustar\u000000', 257, 8, 'latin1');
    let sum = 0;
    for (const byte of h) sum += byte;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** An honest package archive holding `files` (path → body), then `extra` entries the manifest does not list. */
function archive(files: Record<string, Buffer | string>, extra: Entry[] = [], before: Entry[] = []): Buffer {
  const all: Record<string, Buffer | string> = { 'install.sh': '#!/bin/sh\n', ...files };
  const manifest = {
    format: MANIFEST_FORMAT,
    packageId: 'P-extractor-1',
    softwareVersion: '1.0.02-0',
    allowDowngrade: false,
    script: 'install.sh',
    timeoutSeconds: 60,
    modules: [],
    files: Object.fromEntries(Object.entries(all).map(([name, body]) => [name, sha256(body)])),
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  const entries = [
    { name: 'manifest.json', body: JSON.stringify(manifest) },
    ...before,
    ...Object.entries(all).map(([name, body]) => ({ name, body })),
  ];
  return zlib.gzipSync(tarOf([...entries, ...extra]));
}

type Outcome = { files: Record<string, string> } | { code: string } | { stopped: true };

async function outcomeOf(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    const r = (await run()) as { kind: string; files?: Record<string, string> };
    return r.kind === 'extracted' ? { files: r.files ?? {} } : { stopped: true };
  } catch (error) {
    if (error instanceof SecurityError) return { code: error.code };
    throw error;
  }
}

/** The archive through the extractor in the chunks `cuts` make, `bound` its size while streaming. */
async function streamed(
  bytes: Buffer,
  cuts: number[],
  bound = bytes.length,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
): Promise<Outcome> {
  const stage = path.join(dir, `stream-${++n}`);
  return outcomeOf(async () => {
    const extractor = new Extractor(stage, bound, limits);
    let at = 0;
    for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
      await extractor.write(Buffer.from(bytes.subarray(at, cut)));
      at = cut;
    }
    await extractor.write(Buffer.from(bytes.subarray(at)));
    return extractor.end(bytes.length);
  });
}

async function whole(bytes: Buffer, limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS): Promise<Outcome> {
  const file = path.join(dir, `whole-${++n}.tgz`);
  fs.writeFileSync(file, bytes);
  return outcomeOf(() => extractPackage(file, path.join(dir, `whole-${n}`), limits));
}

describe('the extractor fed as the archive is decrypted', () => {
  it('gives the verdict of the whole file however the archive is cut into chunks (honest, cut short, bytes flipped)', async () => {
    const t = caseTally<'flipped'>();
    const honest = archive({ 'modules/a.bin': Buffer.alloc(3000, 7), 'modules/b.txt': 'b'.repeat(700) });
    const numRuns = 150;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.oneof(
          fc.constant([] as [number, number][]),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 2 }),
        ),
        fc.option(fc.nat(), { nil: undefined, freq: 2 }),
        async (cuts, flips, cut) => {
          let bytes = Buffer.from(honest);
          for (const [at, x] of flips) bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ x;
          if (cut !== undefined) bytes = bytes.subarray(0, cut % bytes.length);
          const expected = await whole(bytes);
          const got = await streamed(bytes, cuts);
          t.count('files' in expected ? 'decoded' : 'refused');
          if (flips.length === 0) expect(got).toEqual(expected);
          else {
            // a garbled archive may fail two ways at one entry (its manifest, and the gzip
            // stream's check a little later): which is noted first depends on the chunks, for
            // the whole file too (it is read 1 MB at a time); a refusal stays a refusal
            t.count('flipped');
            expect('code' in got).toBe('code' in expected);
            if (!('code' in expected)) expect(got).toEqual(expected);
          }
        },
      ),
      { numRuns },
    );
    t.atLeast('decoded', 0.1, numRuns);
    t.atLeast('refused', 0.3, numRuns);
    t.atLeast('flipped', 0.3, numRuns);
  }, 60_000);

  describe('the expansion guard against a bound, then the exact size', () => {
    // 20,000 zeros gzip to a few dozen bytes: over 3× once past 1,000 bytes
    const limits: ExtractLimits = { ...DEFAULT_EXTRACT_LIMITS, ratioFloorBytes: 1000, maxRatio: 3 };
    const zeros = Buffer.alloc(20_000);

    it('an entry only the exact size refuses is PACKAGE_TOO_LARGE, as on the whole file', async () => {
      const bytes = archive({ 'modules/zeros.bin': zeros });
      expect(await whole(bytes, limits)).toEqual({ code: REFUSAL.PACKAGE_TOO_LARGE });
      expect(await streamed(bytes, [], 1e9, limits)).toEqual({ code: REFUSAL.PACKAGE_TOO_LARGE });
    });

    it('it wins over a failure later in the archive (an unsafe path after it)', async () => {
      const bytes = archive({ 'modules/zeros.bin': zeros }, [{ name: '../escaped', body: 'x' }]);
      expect(await whole(bytes, limits)).toEqual({ code: REFUSAL.PACKAGE_TOO_LARGE });
      expect(await streamed(bytes, [], 1e9, limits)).toEqual({ code: REFUSAL.PACKAGE_TOO_LARGE });
      expect(fs.existsSync(path.join(dir, 'escaped'))).toBe(false);
    });

    it('an earlier failure (an unsafe path before it) keeps its own code', async () => {
      const bytes = archive({ 'modules/zeros.bin': zeros }, [], [{ name: '../escaped', body: 'x' }]);
      expect(await whole(bytes, limits)).toEqual({ code: REFUSAL.PACKAGE_UNSAFE_PATH });
      expect(await streamed(bytes, [], 1e9, limits)).toEqual({ code: REFUSAL.PACKAGE_UNSAFE_PATH });
    });
  });

  it('given up half way (the package failed its checks), it closes every file it had open', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const bytes = archive({ 'modules/big.bin': Buffer.alloc(2 * 1024 * 1024, 1) });
    const before = fds();
    const stage = path.join(dir, `abandoned-${++n}`);
    const extractor = new Extractor(stage, bytes.length);
    await extractor.write(Buffer.from(bytes.subarray(0, Math.floor(bytes.length / 2))));
    expect(fs.existsSync(path.join(stage, 'modules', 'big.bin'))).toBe(true);
    extractor.abandon();
    expect(fds()).toBe(before);
    await extractor.write(Buffer.from(bytes.subarray(Math.floor(bytes.length / 2))));
    expect(fds()).toBe(before);
  });
});
