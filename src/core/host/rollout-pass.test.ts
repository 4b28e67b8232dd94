// One `rollout advance` pass in process, with a clock the test moves (docs/rollouts.md): a
// real store, real keys, a real package and the real flush into a sender that records
// what it is given. --rate spreads the mails across passes (windows of one minute); a
// silent agent is re-sent with a version request, then timed out; a deferral waits for the
// install window.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair, readPublicKey } from '../crypto/keys.js';
import { silentLogger } from '../logger.js';
import type { Envelope, MailSender } from '../mail/types.js';
import type { Sender } from '../message/outgoing.js';
import { flushOutbox } from '../outbox/outbox.js';
import { updateMailBuilder } from '../outbox/update-mail.js';
import { packUpdate, parseModuleSpec } from '../package/pack.js';
import { type Db, openDb } from '../store/db.js';
import { pushAll } from './push-all.js';
import { addAgent, listAgents } from './registry.js';
import { advanceRollouts } from './rollout-pass.js';
import { DEFAULT_SETTINGS, type RolloutSettings, recordResultState, rolloutAgentStates, rolloutRecord } from './rollout-waves-store.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
let now = T0;
const clock = { now: () => new Date(now) };
let dir: string;
let db: Db;
let self: Sender;
let pkg: string;
let agentKeys: string[];
const sent: { to: string; type: string }[] = [];

const sender: MailSender = {
  sendRaw: async (envelope: Envelope, raw: Buffer) => {
    sent.push({ to: envelope.to.join(','), type: /^X-RDS-Type: (\S+)\r?$/im.exec(raw.toString('latin1'))?.[1] ?? '?' });
  },
  close: async () => {},
};
const flush = () => flushOutbox(db, sender, { logger: silentLogger, clock, build: updateMailBuilder() });
const pass = () => advanceRollouts({ db, self, clock, ttlMs: 3_600_000, logger: silentLogger });
const at = (ms: number) => {
  now = T0 + ms;
};
const updatesTo = () => sent.filter((s) => s.type === 'update').map((s) => s.to.slice(0, 2));

beforeAll(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 's22-rollout-pass-'));
  dir = root;
  const host = await generateKeyPair('HOST', 'host@example.test');
  self = { id: 'HOST', address: 'host@example.test', key: await openpgp.readPrivateKey({ armoredKey: host.privateArmored }) };
  agentKeys = await Promise.all(
    ['a1', 'a2', 'a3', 'a4', 'a5'].map(async (n) => (await generateKeyPair(n, `${n}@example.test`)).publicArmored),
  );
  fs.writeFileSync(path.join(root, 'install.sh'), '#!/bin/sh\ntrue\n');
  fs.writeFileSync(path.join(root, 'main.cgi'), 'main');
  pkg = path.join(root, 'up.rdsu');
  await packUpdate({
    softwareVersion: '1.0.02-0',
    script: path.join(root, 'install.sh'),
    modules: [parseModuleSpec(`main.cgi=1.0.02:${path.join(root, 'main.cgi')}`)],
    encryptionKeys: [await readPublicKey(host.publicArmored)],
    signingKey: self.key,
    output: pkg,
  });
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  const state = fs.mkdtempSync(path.join(dir, 'state-'));
  db = openDb(state);
  sent.length = 0;
  at(0);
  for (const [i, key] of agentKeys.entries()) {
    addAgent(db, { id: `A${i + 1}`, address: `a${i + 1}@example.test`, key: await readPublicKey(key), note: '' }, clock.now());
  }
});

async function push(count: number, settings: Partial<RolloutSettings>, rate?: number): Promise<string> {
  const result = await pushAll({
    db,
    self,
    file: pkg,
    agents: listAgents(db).slice(0, count),
    dryRun: false,
    clock,
    ttlMs: 3_600_000,
    maxMessageSize: 10_000_000,
    logger: silentLogger,
    sender: async () => sender,
    plan: {
      shares: [{ percent: 100 }],
      canary: [],
      settings: { ...DEFAULT_SETTINGS, ...settings },
      ...(rate ? { rate: { count: rate } } : {}),
    },
  });
  return result.rolloutId as string;
}

describe('rollout advance, pass by pass', () => {
  it('--rate 2/m: 2 mails with push-all, none more in the same minute, 2 the next minute, then the last', async () => {
    const id = await push(5, { rate: '2/m' }, 2);
    expect(updatesTo()).toEqual(['a1', 'a2']);
    at(30_000);
    expect((await pass())[0]?.queued).toEqual([]);
    at(61_000);
    expect((await pass())[0]?.queued).toEqual(['A3', 'A4']);
    await flush();
    at(90_000);
    expect((await pass())[0]?.queued).toEqual([]);
    at(122_000);
    expect((await pass())[0]?.queued).toEqual(['A5']);
    await flush();
    expect(updatesTo()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(rolloutAgentStates(db, id).map((a) => a.state)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
  });

  it('a silent agent: a version request and a re-send at the deadline, timed out after --retries, the budget halts', async () => {
    const id = await push(1, { timeoutMs: 60_000, retries: 1 });
    at(59_000);
    expect((await pass())[0]).toMatchObject({ resent: [], timedOut: [], state: 'running' });
    at(61_000);
    expect((await pass())[0]).toMatchObject({ resent: ['A1'], timedOut: [] });
    await flush();
    expect(sent.map((s) => s.type)).toEqual(['update', 'version-request', 'update']);
    at(100_000);
    expect((await pass())[0]?.resent).toEqual([]); // the new deadline: 61 s + 60 s
    at(122_000);
    const last = (await pass())[0];
    expect(last).toMatchObject({ timedOut: ['A1'], state: 'halted', halt: { budget: 'max-timeouts', limit: 0, count: 1, agents: ['A1'] } });
    expect(rolloutAgentStates(db, id)[0]).toMatchObject({ state: 'timed-out', attempts: 2 });
    expect(rolloutRecord(db, id)?.haltReason).toBe('max-timeouts 0 passed: 1 timed out (A1)');
  });

  it('deferred: nothing until the install window plus the timeout, then a re-send', async () => {
    const id = await push(1, { timeoutMs: 60_000 });
    at(5_000);
    const until = new Date(T0 + 3_600_000).toISOString();
    recordResultState(db, {
      rolloutId: id,
      agentId: 'A1',
      outcome: 'deferred',
      version: '1.0.01-0',
      at: clock.now().toISOString(),
      deferredUntil: until,
    });
    at(3_600_000);
    expect((await pass())[0]?.resent).toEqual([]);
    at(3_661_000);
    expect((await pass())[0]?.resent).toEqual(['A1']);
  });

  it('the last result in: done; a failed agent over budget: halted and its queued mail held', async () => {
    const id = await push(2, {});
    recordResultState(db, { rolloutId: id, agentId: 'A1', outcome: 'installed', version: '1.0.02-0', at: clock.now().toISOString() });
    recordResultState(db, { rolloutId: id, agentId: 'A2', outcome: 'installed', version: '1.0.02-0', at: clock.now().toISOString() });
    expect((await pass())[0]?.state).toBe('done');
    const halted = await push(3, { timeoutMs: 60_000, maxFailures: '0' });
    recordResultState(db, { rolloutId: halted, agentId: 'A1', outcome: 'refused', version: '1.0.01-0', at: clock.now().toISOString() });
    at(61_000);
    const moves = await pass();
    expect(moves.find((m) => m.rollout === halted)).toMatchObject({
      state: 'halted',
      resent: [],
      halt: { budget: 'max-failures', agents: ['A1'] },
    });
  });
});
