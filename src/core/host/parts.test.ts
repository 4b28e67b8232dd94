// The split math of update parts (host side): the base64 length formula, the largest part
// for a room, the cut for a limit, and, as a property over real part mails (built the way
// push-all builds them, signed, around their encoded part), that every mail is within the
// limit and the package needs no fewer parts than body / limit.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { base64Lines } from '../message/base64-lines.js';
import { buildPartMail, PartEncodings, type PartRecipe } from '../outbox/part-mail.js';
import { caseTally } from '../testing.js';
import { base64LinesLength, cutParts, hashParts, largestPart, partRange } from './parts.js';
import { planParts, preparePart } from './push-parts.js';

describe('base64LinesLength', () => {
  it('property: is the length of base64Lines of that many bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), (n) => {
        expect(base64LinesLength(n)).toBe(base64Lines(Buffer.alloc(n)).length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('largestPart', () => {
  it('property: the largest whole number of 57-byte lines that fits the room', () => {
    const tally = caseTally();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50_000_000 }), (room) => {
        const size = largestPart(room);
        expect(size % 57).toBe(0);
        if (size === 0) return tally.refused();
        tally.decoded();
        expect(base64LinesLength(size)).toBeLessThanOrEqual(room);
        expect(base64LinesLength(size + 57)).toBeGreaterThan(room);
      }),
      { numRuns: 300 },
    );
    tally.atLeast('decoded', 0.75, 300);
  });
});

describe('cutParts', () => {
  it('property: every part fits with the overhead of its N, N covers the body, no N smaller would do', async () => {
    const tally = caseTally();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300_000_000 }),
        fc.integer({ min: 100_000, max: 40_000_000 }),
        fc.integer({ min: 1000, max: 20_000 }),
        fc.integer({ min: 0, max: 5 }), // at most 70,000 bytes of overhead at 10,000 parts: the limit is never passed by it alone
        async (body, limit, fixed, perPart) => {
          const overhead = (n: number) => fixed + perPart * n;
          let cut: Awaited<ReturnType<typeof cutParts>>;
          try {
            cut = await cutParts(body, limit, overhead);
          } catch (error) {
            tally.refused();
            expect((error as { code?: string }).code).toBe('TOO_MANY_PARTS');
            return;
          }
          tally.decoded();
          expect(overhead(cut.parts) + base64LinesLength(cut.partSize)).toBeLessThanOrEqual(limit);
          expect(cut.parts * cut.partSize).toBeGreaterThanOrEqual(body);
          expect((cut.parts - 1) * cut.partSize).toBeLessThan(body);
          expect(cut.parts).toBeGreaterThanOrEqual(Math.ceil(body / limit));
        },
      ),
      { numRuns: 300 },
    );
    tally.atLeast('decoded', 0.8, 300);
  });

  it('a limit the headers alone pass: MAIL_TOO_LARGE naming both numbers', async () => {
    await expect(cutParts(10_000, 5_000, () => 5_000)).rejects.toMatchObject({
      code: 'MAIL_TOO_LARGE',
      message: expect.stringMatching(/take 5000 bytes, more than the 5000-byte mail size limit/),
    });
  });
});

describe('part mails built for real', () => {
  let hostKey: openpgp.PrivateKey;
  let agentKey: string;
  let dir: string;
  beforeAll(async () => {
    const gen = (name: string) => openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'object' });
    hostKey = (await gen('HOST')).privateKey;
    agentKey = (await gen('AGENT')).publicKey.armor();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-parts-unit-'));
  });

  it('property: every part mail (part 1 with the pkesk and all hashes) is within the limit; parts >= ceil(body / limit)', async () => {
    const tally = caseTally<'split'>();
    const numRuns = 25;
    const clock = { now: () => new Date('2026-12-07T12:00:00Z') };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400_000 }),
        fc.integer({ min: 60_000, max: 150_000 }),
        fc.stringMatching(/^[A-Z0-9]{1,40}$/),
        async (bodySize, limit, id) => {
          const file = path.join(dir, `p-${bodySize}-${limit}.bin`);
          fs.writeFileSync(file, randomBytes(bodySize + 16));
          const self = { id: 'HOST', address: 'host@example.com', key: hostKey };
          const agent = { id, address: `${id.toLowerCase()}@example.com`, publicKey: agentKey };
          const input = { self, file, ttlMs: 86_400_000, clock };
          const manifest = { packageId: 'P1', softwareVersion: '1.0.02-0' };
          const plan = await planParts(input, [agent], manifest, { fileSize: bodySize + 16, bodyOffset: 16 }, limit);
          if (plan.parts > 1) tally.count('split');
          expect(plan.parts).toBeGreaterThanOrEqual(Math.ceil(bodySize / limit));
          const sessionKey = { data: randomBytes(32), algorithm: 'aes256' as const };
          const encodings = new PartEncodings();
          let total = 0;
          for (let n = 1; n <= plan.parts; n++) {
            const recipe: PartRecipe = await preparePart(input, agent, 'R20261207120000-abcdef01', manifest, plan, n, sessionKey);
            const raw = await buildPartMail(recipe, encodings.get(recipe));
            expect(raw.length).toBeLessThanOrEqual(limit);
            total += recipe.length;
          }
          expect(total).toBe(bodySize);
          fs.rmSync(file);
          tally.decoded();
        },
      ),
      { numRuns },
    );
    tally.atLeast('split', 0.3, numRuns); // ~70% expected (body up to 400 kB against a 60–150 kB limit)
  }, 120_000);

  it('parts are hashed by range, each hash the SHA-256 of exactly its bytes', () => {
    const file = path.join(dir, 'h.bin');
    const bytes = randomBytes(1000);
    fs.writeFileSync(file, bytes);
    const cut = { partSize: 300, parts: 4, bodyOffset: 10, totalSize: 990 };
    const hashes = hashParts(file, cut);
    expect(hashes).toEqual(
      [1, 2, 3, 4].map((n) => {
        const { offset, length } = partRange(cut, n);
        return createHash('sha256')
          .update(bytes.subarray(offset, offset + length))
          .digest('hex');
      }),
    );
    expect(partRange(cut, 4)).toEqual({ offset: 910, length: 90 });
  });

  it('a package file changed after the push: the part is not built (PACKAGE_CHANGED), the mail stays queued', () => {
    const file = path.join(dir, 'c.bin');
    fs.writeFileSync(file, Buffer.alloc(100, 1));
    const recipe = { file, offset: 0, length: 100, sha256: '0'.repeat(64), part: 1 } as PartRecipe;
    expect(() => new PartEncodings().get(recipe)).toThrow(expect.objectContaining({ code: 'PACKAGE_CHANGED' }));
  });
});
