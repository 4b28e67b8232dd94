// The package body decrypted with Node's crypto (seipd.ts, through unpack.ts decryptPackage):
// packages made by openpgp.js (as pack-update does: streamed, partial lengths; whole;
// compressed) and by GnuPG 2.2 (`gpg --sign --encrypt`, compressed and not) decrypt to
// exactly their plaintext through the new route; a body this module does not take (v2/AEAD)
// still opens through openpgp.js; every flipped octet of the encrypted body is
// PACKAGE_TAMPERED, every cut inside it PACKAGE_TRUNCATED, and nothing is left behind.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../crypto/keys.js';
import { readBodyLength } from '../crypto/packet-length.js';
import { REFUSAL, SecurityError } from '../errors.js';
import { caseTally } from '../testing.js';
import { sessionKeyPrefixLength } from './packets.js';
import { decryptionRoute, decryptPackage } from './unpack.js';

interface Pair {
  priv: openpgp.PrivateKey;
  pub: openpgp.PublicKey;
  armoredPriv: string;
}

let dir: string;
let host: Pair;
let agent: Pair;
let n = 0;

async function pair(name: string): Promise<Pair> {
  const p = await generateKeyPair(name, `${name}@example.test`);
  return {
    priv: await openpgp.readPrivateKey({ armoredKey: p.privateArmored }),
    pub: await openpgp.readKey({ armoredKey: p.publicArmored }),
    armoredPriv: p.privateArmored,
  };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-seipd-test-'));
  [host, agent] = await Promise.all([pair('host'), pair('agent')]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(bytes: Uint8Array): string {
  const f = path.join(dir, `p${++n}.rdsu`);
  fs.writeFileSync(f, bytes);
  return f;
}

/** Seal `plain` for the agent, signed by the host; `chunk` streams it in pieces (partial lengths). */
async function seal(plain: Buffer, o: { chunk?: number; config?: Partial<openpgp.Config>; to?: openpgp.PublicKey } = {}) {
  const { chunk } = o;
  const source = chunk
    ? new ReadableStream<Uint8Array>({
        start(c) {
          for (let at = 0; at < plain.length; at += chunk) c.enqueue(plain.subarray(at, at + chunk));
          c.close();
        },
      })
    : plain;
  const message = await openpgp.createMessage({ binary: source });
  const encrypted = await openpgp.encrypt({
    message,
    encryptionKeys: o.to ?? agent.pub,
    signingKeys: host.priv,
    format: 'binary',
    ...(o.config ? { config: o.config } : {}),
  });
  if (encrypted instanceof Uint8Array) return Buffer.from(encrypted);
  return Buffer.from(await new Response(encrypted as unknown as ReadableStream<Uint8Array>).arrayBuffer());
}

async function opened(f: string, key = agent.priv): Promise<Buffer> {
  const out = path.join(dir, `out${++n}`);
  await decryptPackage({ file: f, outFile: out, agentKey: key, hostKey: host.pub });
  return fs.readFileSync(out);
}

/** The refusal code of decrypting `bytes`, and that no plaintext file was left. */
async function refusal(bytes: Uint8Array): Promise<string> {
  const out = path.join(dir, `out${++n}`);
  try {
    await decryptPackage({ file: file(bytes), outFile: out, agentKey: agent.priv, hostKey: host.pub });
  } catch (error) {
    expect(error).toBeInstanceOf(SecurityError);
    expect(fs.existsSync(out)).toBe(false);
    return (error as SecurityError).code;
  }
  return 'accepted';
}

/** Offsets of the SEIPD packet's framing octets (tag, length headers) and of its version octet. */
function framing(bytes: Buffer): { start: number; framing: Set<number>; version: number } {
  const start = sessionKeyPrefixLength(bytes);
  const marks = new Set<number>([start]);
  let at = start + 1;
  let version = -1;
  for (;;) {
    const length = readBodyLength(bytes, at) as NonNullable<ReturnType<typeof readBodyLength>>;
    for (let i = 0; i < length.size; i++) marks.add(at + i);
    if (version < 0) version = at + length.size;
    at += length.size + length.length;
    if (!length.partial) break;
  }
  expect(at).toBe(bytes.length);
  return { start, framing: marks, version };
}

describe('packages made by openpgp.js', () => {
  const cases: [string, number, Parameters<typeof seal>[1]][] = [
    ['whole (one definite length)', 70_000, {}],
    ['streamed in 1 KiB pieces (partial lengths, as pack-update)', 70_001, { chunk: 1024 }],
    ['streamed in 1 MiB pieces', 3 * 1024 * 1024 + 17, { chunk: 1024 * 1024 }],
    ['compressed (zlib)', 40_000, { config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib } }],
    ['compressed (zip), streamed', 40_000, { chunk: 4096, config: { preferredCompressionAlgorithm: openpgp.enums.compression.zip } }],
    ['AES-128', 10_000, { config: { preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes128 } }],
    ['empty', 0, {}],
  ];
  for (const [name, size, o] of cases) {
    it(`${name}: decrypts through Node's crypto to its exact plaintext`, async () => {
      const plain =
        size > 1000 ? Buffer.concat([randomBytes(size / 2), Buffer.alloc(size - Math.floor(size / 2), 'a')]) : randomBytes(size);
      const f = file(await seal(plain, o));
      expect(await decryptionRoute(f, agent.priv)).toBe('node-crypto');
      expect((await opened(f)).equals(plain)).toBe(true);
    }, 60_000);
  }

  it('a v2 (AEAD) body still opens, through openpgp.js', async () => {
    const plain = randomBytes(5000);
    const aead = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'aead' }],
      format: 'object',
      config: { aeadProtect: true },
    });
    const f = file(await seal(plain, { to: aead.publicKey, config: { aeadProtect: true } }));
    expect(await decryptionRoute(f, aead.privateKey)).toBe('openpgp');
    expect((await opened(f, aead.privateKey)).equals(plain)).toBe(true);
  }, 60_000);
});

describe('packages made by GnuPG 2.2 (gpg --sign --encrypt to the agent key)', () => {
  let home: string;
  const gpg = (...args: string[]) =>
    execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  beforeAll(() => {
    home = fs.mkdtempSync('/tmp/rdsg-'); // short: the gpg-agent socket path is limited
    fs.chmodSync(home, 0o700);
    for (const p of [host, agent]) {
      fs.writeFileSync(path.join(home, 'key.asc'), p.armoredPriv);
      gpg('--import', path.join(home, 'key.asc'));
    }
  });
  afterAll(() => {
    try {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  for (const compress of ['zlib', 'zip', 'none']) {
    it(`compression ${compress}: decrypts through Node's crypto to exactly what gpg --decrypt gives`, async () => {
      const plain = Buffer.concat([randomBytes(200_000), Buffer.alloc(100_000, 'z')]);
      const input = path.join(dir, `plain${++n}`);
      fs.writeFileSync(input, plain);
      const output = path.join(dir, `gpg${n}.gpg`);
      const fprs = [host, agent].map((p) => p.pub.getFingerprint());
      gpg(
        '--trust-model',
        'always',
        '--compress-algo',
        compress,
        '-u',
        fprs[0] as string,
        '-r',
        fprs[1] as string,
        '--sign',
        '--encrypt',
        '-o',
        output,
        input,
      );
      expect(await decryptionRoute(output, agent.priv)).toBe('node-crypto');
      const ours = await opened(output);
      expect(ours.equals(plain)).toBe(true);
      expect(ours.equals(gpg('--decrypt', output))).toBe(true);
    }, 60_000);
  }
});

describe('a damaged body is refused with its code, nothing left behind', () => {
  let sealed: Buffer;
  let layout: ReturnType<typeof framing>;
  beforeAll(async () => {
    // three partial chunks and a final one, as pack-update frames its stream
    sealed = await seal(Buffer.concat([randomBytes(9000), Buffer.alloc(3000, 'x')]), { chunk: 4096 });
    layout = framing(sealed);
    expect(layout.framing.size).toBeGreaterThan(3);
  });

  it('property: any flipped octet of the ciphertext (random prefix, inner message, MDC) is PACKAGE_TAMPERED', async () => {
    const tally = caseTally<'early' | 'anywhere'>();
    const numRuns = 60;
    const body = (at: number) => at > layout.version && !layout.framing.has(at);
    const early = fc.integer({ min: 0, max: 120 }).map((k) => ['early', layout.version + 1 + k] as const);
    const anywhere = fc.integer({ min: layout.version + 1, max: sealed.length - 1 }).map((at) => ['anywhere', at] as const);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(early, anywhere).filter(([, at]) => body(at)),
        fc.integer({ min: 1, max: 255 }),
        async ([where, at], mask) => {
          const bytes = Buffer.from(sealed);
          bytes[at] = (bytes[at] as number) ^ mask;
          expect(await refusal(bytes)).toBe(REFUSAL.PACKAGE_TAMPERED);
          tally.count(where);
        },
      ),
      { numRuns },
    );
    tally.atLeast('early', 0.2, numRuns);
    tally.atLeast('anywhere', 0.2, numRuns);
  }, 60_000);

  it('property: cut anywhere inside the encrypted packet is PACKAGE_TRUNCATED', async () => {
    const tally = caseTally();
    const numRuns = 40;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: layout.version + 1, max: sealed.length - 1 }), async (at) => {
        expect(await refusal(sealed.subarray(0, at))).toBe(REFUSAL.PACKAGE_TRUNCATED);
        tally.refused();
      }),
      { numRuns },
    );
    tally.atLeast('refused', 1, numRuns);
  }, 60_000);

  it('an octet after the encrypted packet is PACKAGE_TAMPERED (as openpgp.decrypt said)', async () => {
    expect(await refusal(Buffer.concat([sealed, Buffer.from('\n')]))).toBe(REFUSAL.PACKAGE_TAMPERED);
  }, 60_000);

  it('only the MDC changed (the last octet: plaintext and signature intact) is PACKAGE_TAMPERED', async () => {
    // in CFB a flipped ciphertext octet flips the same plaintext octet (and garbles the next
    // block, which the last one does not have): the signature still verifies, only the MDC fails
    for (const size of [100, 5000, 70_000]) {
      const bytes = await seal(randomBytes(size), { chunk: 4096 });
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
      expect(await refusal(bytes)).toBe(REFUSAL.PACKAGE_TAMPERED);
    }
  }, 60_000);

  it("the MDC packet's own header (0xD3 0x14) is checked", async () => {
    // the last 22 octets are the MDC packet: flip its tag octet
    const bytes = Buffer.from(sealed);
    bytes[bytes.length - 22] = (bytes[bytes.length - 22] as number) ^ 0x01;
    expect(await refusal(bytes)).toBe(REFUSAL.PACKAGE_TAMPERED);
  }, 60_000);

  it('a package for another key is still PACKAGE_NOT_FOR_ME', async () => {
    const other = await pair('other');
    expect(await refusal(await seal(randomBytes(100), { to: other.pub }))).toBe(REFUSAL.PACKAGE_NOT_FOR_ME);
  }, 60_000);
});
