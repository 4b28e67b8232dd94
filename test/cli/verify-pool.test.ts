// The verify pool's workers, as built (dist/core/message/verify-worker.js), against the
// in-process check they stand in for: on random good and tampered payloads, signed by a
// candidate's key or by another, the pool gives exactly what verifySignedDataByAny gives
// (the same bytes and key index, or the same reason code and message), and parses mail
// exactly as parseRdsMail does.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseTally } from '../../src/core/testing.js';
import { ensureBuilt, ROOT } from '../support/cli.js';
import { tamper } from '../support/tamper.js';

const dist = (file: string) => import(pathToFileURL(path.join(ROOT, 'dist', file)).href);

type Outcome = { ok: true; data: string; index: number } | { ok: false; name: string; code?: string; message: string };

type Sender = { id: string; address: string; key?: openpgp.PublicKey; armoredKey?: string };
let pool: {
  verify(armored: string, senders: Sender[], pickedBy?: string[]): Promise<{ data: Uint8Array; index: number }>;
  parseMail(raw: Buffer): Promise<unknown>;
  close(): Promise<void>;
};
let inProcess: (armored: string, keys: openpgp.PublicKey[], pickedBy?: string[]) => Promise<{ data: Uint8Array; index: number }>;
let parseRdsMail: (raw: Buffer) => Promise<unknown>;
let composeMail: (input: Record<string, unknown>) => Promise<{ raw: Buffer }>;
const privateKeys: openpgp.PrivateKey[] = [];
const publicKeys: openpgp.PublicKey[] = [];
const armoredKeys: string[] = [];

beforeAll(async () => {
  ensureBuilt();
  const { VerifyPool } = await dist('core/message/verify-pool.js');
  ({ verifySignedDataByAny: inProcess } = await dist('core/crypto/signed-data.js'));
  ({ parseRdsMail, composeMail } = await dist('core/message/mail.js'));
  const { generateKeyPair } = await dist('core/crypto/keys.js');
  pool = new VerifyPool({ size: 2 });
  // keys 0..2 may be candidates; key 3 never is (another agent, or the host's own)
  for (let i = 0; i < 4; i++) {
    const pair = await generateKeyPair(`A${i}`, `a${i}@example.test`);
    privateKeys.push(await openpgp.readPrivateKey({ armoredKey: pair.privateArmored }));
    publicKeys.push(await openpgp.readKey({ armoredKey: pair.publicArmored }));
    armoredKeys.push(pair.publicArmored);
  }
}, 120_000);

afterAll(() => pool?.close());

async function outcome(run: () => Promise<{ data: Uint8Array; index: number }>): Promise<Outcome> {
  try {
    const { data, index } = await run();
    return { ok: true, data: Buffer.from(data).toString('hex'), index };
  } catch (error) {
    const e = error as Error & { code?: string };
    return { ok: false, name: e.name, ...(e.code ? { code: e.code } : {}), message: e.message };
  }
}

describe('verify pool == in-process verify', () => {
  it('property: random good and tampered payloads, candidates in any order', async () => {
    const runs = 120;
    const tally = caseTally<'verified' | 'BAD_SIGNATURE' | 'UNKNOWN_KEY' | 'NOT_SIGNED' | 'other'>();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 400 }),
        fc.integer({ min: 0, max: 3 }),
        fc.shuffledSubarray([0, 1, 2], { minLength: 1 }),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { freq: 2 }),
        fc.boolean(),
        fc.constantFrom('none', 'none', 'signer', 'other'),
        async (data, signer, chosen, flip, armoredSenders, picked) => {
          const message = await openpgp.createMessage({ binary: data });
          let armored = await openpgp.sign({ message, signingKeys: privateKeys[signer] as openpgp.PrivateKey, format: 'armored' });
          if (flip) armored = await tamper(armored, flip[0], flip[1]);
          const keys = chosen.map((i) => publicKeys[i] as openpgp.PublicKey);
          // the registry hands out armored keys (host), an agent's config a parsed one
          const senders = chosen.map((i) =>
            armoredSenders
              ? { id: `A${i}`, address: 'shared@example.test', armoredKey: armoredKeys[i] as string }
              : { id: `A${i}`, address: 'shared@example.test', key: publicKeys[i] as openpgp.PublicKey },
          );
          // the key IDs the host picked its candidates by (accept-signer.ts): none, the signer's, another's
          const pickedBy = { none: undefined, signer: [signer], other: [(signer + 1) % 4] }[picked]?.map((i) =>
            (publicKeys[i] as openpgp.PublicKey).getKeyID().toHex(),
          );
          const expected = await outcome(() => inProcess(armored, keys, pickedBy));
          const got = await outcome(() => pool.verify(armored, senders, pickedBy));
          expect(got).toEqual(expected);
          if (expected.ok) tally.count('verified');
          else tally.count((['BAD_SIGNATURE', 'UNKNOWN_KEY', 'NOT_SIGNED'] as const).find((c) => c === expected.code) ?? 'other');
        },
      ),
      { numRuns: runs },
    );
    // seen: 16% verified, 12% BAD_SIGNATURE, 66% UNKNOWN_KEY (a quarter picked by another key ID), 6% NOT_SIGNED
    tally.atLeast('verified', 0.07, runs);
    tally.atLeast('UNKNOWN_KEY', 0.25, runs);
    tally.atLeast('BAD_SIGNATURE', 0.06, runs);
  }, 300_000);

  it('property: mail parsed on a worker is the mail parsed in process', async () => {
    const runs = 40;
    const tally = caseTally();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 80 }),
        fc.string({ maxLength: 200 }),
        fc.option(fc.uint8Array({ maxLength: 300 })),
        async (subject, text, extra) => {
          const { raw } = await composeMail({
            from: 'a1@example.test',
            to: 'host@example.test',
            subject,
            text,
            type: 'version-report',
            payloadId: 'p-1',
            armoredPayload: '-----BEGIN PGP MESSAGE-----\n\nabc\n-----END PGP MESSAGE-----\n',
            attachments: extra ? [{ filename: 'versions.txt', content: Buffer.from(extra) }] : [],
          });
          const expected = await parseRdsMail(raw);
          expect(await pool.parseMail(raw)).toEqual(expected);
          tally.decoded();
        },
      ),
      { numRuns: runs },
    );
    tally.atLeast('decoded', 1, runs);
  }, 300_000);
});
