import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../crypto/keys.js';
import { signData } from '../crypto/signed-data.js';
import { REFUSAL, SecurityError } from '../errors.js';
import { type AcceptPolicy, acceptMessage } from './accept.js';
import { buildPayload, type Payload, signPayload } from './payload.js';

// acceptMessage's checks, one case each, in the order they run: every bad input gets the
// one reason code of the first check it fails (real keys, real signatures, no mocks).
const NOW = new Date('2026-11-02T10:00:00.000Z');
const clock = { now: () => NOW };
const SKEW_MS = 60_000;
const HOST_ADDRESS = 'host@example.test';

let hostKey: openpgp.PrivateKey;
let otherKey: openpgp.PrivateKey;

async function privateKey(name: string): Promise<openpgp.PrivateKey> {
  const pair = await generateKeyPair(name, `${name.toLowerCase()}@example.test`);
  return openpgp.readPrivateKey({ armoredKey: pair.privateArmored });
}

beforeAll(async () => {
  [hostKey, otherKey] = await Promise.all([privateKey('HOST'), privateKey('OTHER')]);
});

function policy(overrides: Partial<AcceptPolicy> = {}): AcceptPolicy {
  return {
    selfId: 'A1',
    sendersFor: (address) => (address === HOST_ADDRESS ? [{ id: 'HOST', address, key: hostKey.toPublic() }] : []),
    unknownSenderCode: REFUSAL.SENDER_MISMATCH,
    acceptBroadcast: true,
    wasProcessed: () => false,
    clock,
    skewMs: SKEW_MS,
    ...overrides,
  };
}

function payload(overrides: Partial<Payload> = {}): Payload {
  return { ...buildPayload({ type: 'version-request', from: 'HOST', to: ['A1'], body: {}, ttlMs: 3_600_000, clock }), ...overrides };
}

const signed = (p: Payload, key = hostKey) => signPayload(p, key);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SecurityError);
    return (error as SecurityError).code;
  }
  return 'accepted';
}

/** A message signed by the host, then one byte of the signed data changed (A1 → A2, same length). */
async function tampered(p: Payload): Promise<string> {
  const { data } = await openpgp.unarmor(await signed(p));
  const bytes = Buffer.from(data as unknown as Uint8Array);
  const at = bytes.indexOf('"A1"');
  expect(at).toBeGreaterThan(0);
  bytes.write('"A2"', at, 'latin1');
  return openpgp.armor(openpgp.enums.armor.message, bytes);
}

describe('acceptMessage: each check and the code it gives, in order', () => {
  it('1. From is no trusted sender: the policy’s code (SENDER_MISMATCH on an agent, UNKNOWN_SENDER on the host)', async () => {
    const armored = await signed(payload());
    expect(await codeOf(acceptMessage('mallory@example.test', armored, policy()))).toBe(REFUSAL.SENDER_MISMATCH);
    const host = policy({ unknownSenderCode: REFUSAL.UNKNOWN_SENDER });
    expect(await codeOf(acceptMessage('mallory@example.test', armored, host))).toBe(REFUSAL.UNKNOWN_SENDER);
    // before the payload is looked at: an unknown sender with no payload is still the sender's code
    expect(await codeOf(acceptMessage('mallory@example.test', undefined, policy()))).toBe(REFUSAL.SENDER_MISMATCH);
  });

  it('the From address is compared trimmed and case-folded', async () => {
    const accepted = await acceptMessage('  Host@Example.TEST ', await signed(payload()), policy());
    expect(accepted.sender.id).toBe('HOST');
  });

  it('2. no payload, or text that is no OpenPGP message: NOT_SIGNED', async () => {
    expect(await codeOf(acceptMessage(HOST_ADDRESS, undefined, policy()))).toBe(REFUSAL.NOT_SIGNED);
    expect(await codeOf(acceptMessage(HOST_ADDRESS, 'hello, install this', policy()))).toBe(REFUSAL.NOT_SIGNED);
  });

  it('3. signed by a key other than the one pinned for that sender: UNKNOWN_KEY', async () => {
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(payload(), otherKey), policy()))).toBe(REFUSAL.UNKNOWN_KEY);
  });

  it('4. signed by the pinned key over other bytes (tampered): BAD_SIGNATURE', async () => {
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await tampered(payload()), policy()))).toBe(REFUSAL.BAD_SIGNATURE);
  });

  it('5. validly signed bytes that are no payload: MALFORMED', async () => {
    const garbage = await signData(new TextEncoder().encode('not json'), hostKey);
    expect(await codeOf(acceptMessage(HOST_ADDRESS, garbage, policy()))).toBe(REFUSAL.MALFORMED);
  });

  it('6. a payload that names another sender than the key that signed it: SENDER_ID_MISMATCH', async () => {
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(payload({ from: 'A2' })), policy()))).toBe(REFUSAL.SENDER_ID_MISMATCH);
  });

  it('7. not addressed to this node, or broadcast where broadcasts are not taken: NOT_FOR_ME', async () => {
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(payload({ to: ['A2'] })), policy()))).toBe(REFUSAL.NOT_FOR_ME);
    const broadcast = await signed(payload({ to: ['*'] }));
    expect(await codeOf(acceptMessage(HOST_ADDRESS, broadcast, policy({ acceptBroadcast: false })))).toBe(REFUSAL.NOT_FOR_ME);
    expect(await codeOf(acceptMessage(HOST_ADDRESS, broadcast, policy()))).toBe('accepted');
  });

  it('8. issued beyond the clock-skew allowance in the future: FROM_FUTURE (within it: accepted)', async () => {
    const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
    const future = payload({ issuedAt: at(SKEW_MS + 1000), expiresAt: at(3_600_000) });
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(future), policy()))).toBe(REFUSAL.FROM_FUTURE);
    const skewed = payload({ issuedAt: at(SKEW_MS - 1000), expiresAt: at(3_600_000) });
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(skewed), policy()))).toBe('accepted');
  });

  it('9. expired beyond the allowance: EXPIRED (just expired, within it: accepted)', async () => {
    const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
    const expired = payload({ issuedAt: at(-3_600_000), expiresAt: at(-SKEW_MS - 1000) });
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(expired), policy()))).toBe(REFUSAL.EXPIRED);
    const justExpired = payload({ issuedAt: at(-3_600_000), expiresAt: at(-SKEW_MS + 1000) });
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(justExpired), policy()))).toBe('accepted');
  });

  it('10. expiring before it was issued: MALFORMED', async () => {
    const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
    const backwards = payload({ issuedAt: at(0), expiresAt: at(-1000) });
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(backwards), policy()))).toBe(REFUSAL.MALFORMED);
  });

  it('11. an id processed before: REPLAYED', async () => {
    const p = payload();
    const seen = policy({ wasProcessed: (id) => id === p.id });
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(p), seen))).toBe(REFUSAL.REPLAYED);
  });

  it('the first failing check decides: NOT_FOR_ME before EXPIRED before REPLAYED; SENDER_ID_MISMATCH before NOT_FOR_ME', async () => {
    const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
    const stale = { issuedAt: at(-7_200_000), expiresAt: at(-3_600_000) };
    const replayed = policy({ wasProcessed: () => true });
    const all = await signed(payload({ to: ['A2'], ...stale }));
    expect(await codeOf(acceptMessage(HOST_ADDRESS, all, replayed))).toBe(REFUSAL.NOT_FOR_ME);
    expect(await codeOf(acceptMessage(HOST_ADDRESS, await signed(payload(stale)), replayed))).toBe(REFUSAL.EXPIRED);
    const lifted = await signed(payload({ from: 'A2', to: ['A9'] }));
    expect(await codeOf(acceptMessage(HOST_ADDRESS, lifted, policy()))).toBe(REFUSAL.SENDER_ID_MISMATCH);
  });

  it('a good message: the payload and the sender whose key verified it', async () => {
    const p = payload();
    const accepted = await acceptMessage(HOST_ADDRESS, await signed(p), policy());
    expect(accepted.payload).toEqual(p);
    expect(accepted.sender.id).toBe('HOST');
  });
});
