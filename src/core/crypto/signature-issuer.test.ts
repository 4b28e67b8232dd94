// signatureIssuer reads the signer of rds's signed payloads without openpgp: on payloads
// signed as rds signs them it gives openpgp's key ID and the signing key's fingerprint; on
// anything else it gives nothing rather than a guess (real keys and signatures, no mocks).
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { caseTally } from '../testing.js';
import { generateKeyPair } from './keys.js';
import { dearmorMessage, signatureIssuer } from './signature-issuer.js';
import { signData } from './signed-data.js';

const keys: openpgp.PrivateKey[] = [];

beforeAll(async () => {
  for (let i = 0; i < 3; i++) {
    const pair = await generateKeyPair(`A${i}`, `a${i}@example.test`);
    keys.push(await openpgp.readPrivateKey({ armoredKey: pair.privateArmored }));
  }
}, 60_000);

const key = (i: number) => keys[i] as openpgp.PrivateKey;
const openpgpIssuers = async (armored: string) =>
  (await openpgp.readMessage({ armoredMessage: armored })).getSigningKeyIDs().map((id) => id.toHex().toLowerCase());

describe('signatureIssuer', () => {
  it('property: a payload signed as rds signs it names its signer as openpgp reads it', async () => {
    const runs = 60;
    const tally = caseTally();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 0, max: 2 }), async (data, signer) => {
        const armored = await signData(data, key(signer));
        const issuer = signatureIssuer(armored);
        expect(issuer).toEqual({ keyId: (await openpgpIssuers(armored))[0], fingerprint: key(signer).getFingerprint().toUpperCase() });
        tally.decoded();
      }),
      { numRuns: runs },
    );
    tally.atLeast('decoded', 1, runs);
  }, 120_000);

  it('property: a changed byte or character never throws; what it still reads is what openpgp reads', async () => {
    const runs = 200;
    const tally = caseTally<'read' | 'unread' | 'openpgp-refused'>();
    const signed = await signData(new TextEncoder().encode('{"type":"version-report"}'), key(0));
    const { data } = await openpgp.unarmor(signed);
    const bytes = data as Uint8Array;
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), async (at, xor, inText) => {
        let armored: string;
        if (inText) {
          const i = at % signed.length;
          armored = signed.slice(0, i) + String.fromCharCode(signed.charCodeAt(i) ^ (xor & 0x7f || 1)) + signed.slice(i + 1);
        } else {
          const changed = new Uint8Array(bytes);
          changed[at % changed.length] = (changed[at % changed.length] as number) ^ xor;
          armored = openpgp.armor(openpgp.enums.armor.message, changed);
        }
        const issuer = signatureIssuer(armored);
        if (!issuer) return tally.count('unread');
        const theirs = await openpgpIssuers(armored).catch(() => undefined);
        if (!theirs) return tally.count('openpgp-refused');
        expect(theirs).toEqual([issuer.keyId]);
        tally.count('read');
      }),
      { numRuns: runs },
    );
    tally.atLeast('read', 0.3, runs);
    tally.atLeast('unread', 0.05, runs);
  }, 120_000);

  it('gives nothing for what rds does not sign: two signers, compressed, unsigned, no fingerprint, not armored', async () => {
    const data = new TextEncoder().encode('{}');
    const message = await openpgp.createMessage({ binary: data });
    const twice = await openpgp.sign({ message, signingKeys: [key(0), key(1)], format: 'armored' });
    expect(await openpgpIssuers(twice)).toHaveLength(2);
    expect(signatureIssuer(twice)).toBeUndefined();
    // the signed message inside a compressed data packet (algorithm 0: stored), as openpgp reads it
    const inner = (await openpgp.unarmor(await signData(data, key(0)))).data as Uint8Array;
    const body = Buffer.concat([Buffer.from([0]), inner]);
    const length = body.length - 192; // a two-octet body length (192..8383)
    const header = Buffer.from([0xc8, (length >> 8) + 192, length & 0xff]);
    const compressed = openpgp.armor(openpgp.enums.armor.message, Buffer.concat([header, body]));
    expect(await openpgpIssuers(compressed)).toHaveLength(1);
    expect(signatureIssuer(compressed)).toBeUndefined();
    const plain = await openpgp.encrypt({ message: await openpgp.createMessage({ binary: data }), passwords: ['x'], format: 'armored' });
    expect(signatureIssuer(plain)).toBeUndefined();
    expect(signatureIssuer('')).toBeUndefined();
    expect(signatureIssuer('hello')).toBeUndefined();
    const signed = await signData(data, key(2));
    expect(signatureIssuer(`text before\n${signed}`)).toBeUndefined();
  });

  it('reads armor with header lines and without its checksum line', async () => {
    const signed = await signData(new TextEncoder().encode('{}'), key(1));
    const lines = signed.trim().split('\n');
    const withHeaders = [lines[0], 'Comment: made by a test', 'Version: x', ...lines.slice(1)].join('\n');
    const withoutChecksum = lines.filter((l) => !/^=[A-Za-z0-9+/]{4}$/.test(l)).join('\n');
    const expected = { keyId: (await openpgpIssuers(signed))[0], fingerprint: key(1).getFingerprint().toUpperCase() };
    expect(signatureIssuer(withHeaders)).toEqual(expected);
    expect(signatureIssuer(withoutChecksum)).toEqual(expected);
    expect(dearmorMessage(signed.replace('-----END PGP MESSAGE-----', '-----END PGP SIGNATURE-----'))).toBeUndefined();
  });
});
