// push-all's per-agent crypto (push-crypto.ts): the real sealing in this thread (the agent
// opens the session key, the host's signature verifies over the same payload bytes), and the
// worker pool's bookkeeping with a stand-in worker (test/support/crypto-worker-fixture.mjs):
// answers reach their own job, a posted error keeps its class and code, a dead worker fails
// the jobs it held (never a pass) and the others go on.
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../crypto/keys.js';
import { verifySignedData } from '../crypto/signed-data.js';
import { SecurityError, UsageError } from '../errors.js';
import { buildPayload } from '../message/payload.js';
import { errorFrom, postError, sealForAgent, WORKER_THRESHOLD, workerCount } from './push-crypto.js';
import { workerSealer } from './push-crypto-pool.js';

const clock = { now: () => new Date('2026-12-07T12:00:00Z') };
const payloadFor = (agentId: string) => buildPayload({ type: 'update', from: 'HOST', to: [agentId], body: {}, ttlMs: 60_000, clock });
const FIXTURE = new URL('../../../test/support/crypto-worker-fixture.mjs', import.meta.url);
const sessionKey = { data: new Uint8Array(32).fill(9), algorithm: 'aes256' as const };

describe('sealForAgent', () => {
  it('wraps the session key for the agent and signs the payload with the host key', async () => {
    const host = await generateKeyPair('HOST', 'host@example.com');
    const agent = await generateKeyPair('A1', 'a1@example.com');
    const hostKey = await openpgp.readPrivateKey({ armoredKey: host.privateArmored });
    const payload = payloadFor('A1');
    const sealed = await sealForAgent({ agentId: 'A1', publicKey: agent.publicArmored, payload }, sessionKey, hostKey);
    const message = await openpgp.readMessage({ binaryMessage: Buffer.from(sealed.pkesk, 'base64') });
    const agentKey = await openpgp.readPrivateKey({ armoredKey: agent.privateArmored });
    const [opened] = await openpgp.decryptSessionKeys({ message, decryptionKeys: agentKey });
    expect(Buffer.from(opened?.data as Uint8Array)).toEqual(Buffer.from(sessionKey.data));
    const signed = await verifySignedData(sealed.armoredPayload, hostKey.toPublic());
    expect(new TextDecoder().decode(signed)).toBe(JSON.stringify(payload));
  });

  it('refuses a registered key that is no key, naming the agent (BAD_KEY)', async () => {
    const host = await generateKeyPair('HOST', 'host@example.com');
    const hostKey = await openpgp.readPrivateKey({ armoredKey: host.privateArmored });
    const job = { agentId: 'A2', publicKey: 'not a key', payload: payloadFor('A2') };
    const error = await sealForAgent(job, sessionKey, hostKey).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('BAD_KEY');
    expect((error as UsageError).message).toMatch(/^key of A2: /);
  });
});

describe('the worker pool', () => {
  const key = async () => openpgp.readPrivateKey({ armoredKey: (await generateKeyPair('HOST', 'host@example.com')).privateArmored });

  it('settles each job with its own answer, spread over the workers', async () => {
    const sealer = workerSealer(2, sessionKey, await key(), FIXTURE);
    try {
      const jobs = Array.from({ length: 40 }, (_, i) => ({ agentId: `A${i}`, publicKey: '', payload: payloadFor(`A${i}`) }));
      const got = await Promise.all(jobs.map((j) => sealer.seal(j)));
      expect(got.map((g) => g.pkesk)).toEqual(jobs.map((j) => j.agentId));
      expect(got.map((g) => g.armoredPayload.split('@')[0])).toEqual(jobs.map((j) => j.payload.id));
      expect(new Set(got.map((g) => g.armoredPayload.split('@')[1])).size).toBe(2);
    } finally {
      await sealer.close();
    }
  });

  it('keeps a posted error as its class and code', async () => {
    const sealer = workerSealer(1, sessionKey, await key(), FIXTURE);
    try {
      const bad = await sealer.seal({ agentId: 'BAD', publicKey: '', payload: payloadFor('BAD') }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(UsageError);
      expect((bad as UsageError).code).toBe('BAD_KEY');
      const refused = await sealer.seal({ agentId: 'SECURITY', publicKey: '', payload: payloadFor('S') }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SecurityError);
      expect((await sealer.seal({ agentId: 'A1', publicKey: '', payload: payloadFor('A1') })).pkesk).toBe('A1');
    } finally {
      await sealer.close();
    }
  });

  it.each(['CRASH', 'EXIT'])('fails the jobs a dying worker held (%s), and the other worker goes on', async (how) => {
    const sealer = workerSealer(2, sessionKey, await key(), FIXTURE);
    try {
      const dying = sealer.seal({ agentId: how, publicKey: '', payload: payloadFor(how) });
      await expect(dying).rejects.toThrow(new RegExp(`^the crypto worker died while preparing the update mail for ${how}: `));
      const after = await Promise.all([1, 2, 3].map((i) => sealer.seal({ agentId: `B${i}`, publicKey: '', payload: payloadFor(`B${i}`) })));
      expect(after.map((a) => a.pkesk)).toEqual(['B1', 'B2', 'B3']);
    } finally {
      await sealer.close();
    }
  });

  it('rejects every job once no worker is left', async () => {
    const sealer = workerSealer(1, sessionKey, await key(), FIXTURE);
    try {
      await expect(sealer.seal({ agentId: 'CRASH', publicKey: '', payload: payloadFor('CRASH') })).rejects.toThrow(/died/);
      await expect(sealer.seal({ agentId: 'A1', publicKey: '', payload: payloadFor('A1') })).rejects.toThrow(
        /^no crypto worker left to prepare the update mail for A1$/,
      );
    } finally {
      await sealer.close();
    }
  });
});

describe('errors across the thread boundary and the pool size', () => {
  it('round-trips the error classes', () => {
    const back = errorFrom(postError(new UsageError('BAD_KEY', 'm')));
    expect(back).toBeInstanceOf(UsageError);
    expect((back as UsageError).code).toBe('BAD_KEY');
    expect(errorFrom(postError(new TypeError('t')))).not.toBeInstanceOf(UsageError);
  });

  it('uses no workers for a few mails, one per CPU (at most 4) for many', () => {
    expect(workerCount(WORKER_THRESHOLD - 1, 2)).toBe(0);
    expect(workerCount(WORKER_THRESHOLD, 2)).toBe(2);
    expect(workerCount(10_000, 16)).toBe(4);
    expect(workerCount(10_000, 1)).toBe(1);
  });
});
