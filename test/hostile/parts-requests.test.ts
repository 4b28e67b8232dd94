// Hostile parts-requests to the host (issue 13, docs/protocol.md#update-parts), through the
// real binary (`rds inbox`) on the embedded maildir:// backend, after a real push-all in
// parts: a request signed by a key nobody registered, or by another agent's key; the same
// request mail delivered twice; a registered agent asking for parts of a rollout it is not
// in. Each case checks its one reason code (exit 4, the quarantine table), the mail moved to
// rds-quarantine, and that nothing was re-sent: no mail in any agent's box, no outbox row,
// the per-agent answer counts unchanged. A control first shows a well-formed request answered.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, REFUSAL, type RefusalCode } from '../../src/core/errors.js';
import { composeMail } from '../../src/core/message/mail.js';
import { signPayload } from '../../src/core/message/payload.js';
import { PARTS_REQUEST } from '../../src/core/protocol/parts-request.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir, writeScript } from '../support/cli.js';
import { countRows, dropMail, freshKey, hostileTally, maildirCounts, privateKeyOf, quarantineRows, queryState } from './helpers.js';

const { hostileCase } = hostileTally('parts-requests');
const HOST_ADDRESS = 'host@example.com';
const LIMIT = 200_000;

let root: string;
let mailRoot: string;
let host: HostNode;
let A: AgentNode;
let B: AgentNode;
let C: AgentNode;
const keys: Record<string, openpgp.PrivateKey> = {};
const pushed = { rolloutId: '', packageId: '' };

const addressOf = (agent: AgentNode) => `${agent.id.toLowerCase()}@example.com`;
const box = (agent: AgentNode) => path.join(mailRoot, addressOf(agent), 'new');
const mailsOf = (agent: AgentNode) => (fs.existsSync(box(agent)) ? fs.readdirSync(box(agent)).length : 0);
const clearBox = (agent: AgentNode) => {
  if (fs.existsSync(box(agent))) for (const f of fs.readdirSync(box(agent))) fs.rmSync(path.join(box(agent), f));
};
const stateDir = () => path.join(host.dir, 'state');

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-hostile-parts-requests-');
  mailRoot = path.join(root, 'mail');
  host = await initHost(root);
  const config = JSON.parse(fs.readFileSync(host.config, 'utf8'));
  fs.writeFileSync(host.config, JSON.stringify({ ...config, maxMessageSize: LIMIT }, null, 2));
  A = await initAgent(root, host, { id: 'AGENTA' });
  B = await initAgent(root, host, { id: 'AGENTB' });
  const module = path.join(root, 'main.bin');
  fs.writeFileSync(module, randomBytes(500_000)); // incompressible: several parts
  const file = path.join(root, 'up.rdsu');
  const install = writeScript(path.join(root, 'install.sh'), 'exit 0');
  // biome-ignore format: one flag and its value per line
  await rdsExpect(0, ['--config', host.config, 'pack-update',
    '--software-version', '1.0.02-0',
    '--script', install,
    '--module', `main.bin=1.0.02:${module}`,
    '-o', file,
  ], { cwd: root });
  const r = await rdsExpect(0, ['--config', host.config, '--json', 'push-all', file], { cwd: root });
  Object.assign(pushed, JSON.parse(r.stdout) as { rolloutId: string; packageId: string });
  // registered after the push: a fleet member, but in no rollout
  C = await initAgent(root, host, { id: 'AGENTC' });
  for (const agent of [A, B, C]) keys[agent.id] = await privateKeyOf(path.join(agent.dir, 'keys', 'private.asc'));
  for (const agent of [A, B, C]) clearBox(agent);
}, 180_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface Ask {
  agent: AgentNode;
  key?: openpgp.PrivateKey;
  rolloutId?: string;
  missing?: number[];
}

/** A parts-request mail as an agent sends it, from AGENT's address, signed by KEY (AGENT's own by default). */
async function askMail(o: Ask): Promise<Buffer> {
  const issued = new Date();
  const id = randomUUID();
  const payload = {
    format: 1,
    type: PARTS_REQUEST,
    id,
    from: o.agent.id,
    to: ['HOST'],
    issuedAt: issued.toISOString(),
    expiresAt: new Date(issued.getTime() + 86_400_000).toISOString(),
    body: { rolloutId: o.rolloutId ?? pushed.rolloutId, packageId: pushed.packageId, missing: o.missing ?? [2] },
  };
  const { raw } = await composeMail({
    from: addressOf(o.agent),
    to: HOST_ADDRESS,
    subject: 'parts-request',
    text: 'parts-request',
    type: PARTS_REQUEST,
    payloadId: id,
    armoredPayload: await signPayload(payload as never, o.key ?? (keys[o.agent.id] as openpgp.PrivateKey)),
  });
  return Buffer.from(raw);
}

/** What a refused request must leave as it was: every agent's box, the outbox, the answer counts. */
function sent() {
  return {
    boxes: [A, B, C].map(mailsOf),
    outbox: countRows(stateDir(), 'outbox'),
    answers: queryState(stateDir(), 'SELECT * FROM parts_answers ORDER BY rollout_id, agent_id'),
  };
}

async function expectQuarantined(raw: Buffer, code: RefusalCode): Promise<void> {
  const before = sent();
  const rows = quarantineRows(stateDir()).length;
  const hostBox = maildirCounts(mailRoot, HOST_ADDRESS);
  dropMail(mailRoot, HOST_ADDRESS, raw);
  const r = await rds(['--config', host.config, 'inbox'], { cwd: root });
  expect(r.code, r.stdout + r.stderr).toBe(EXIT.SECURITY);
  expect(r.stdout).toMatch(new RegExp(`^quarantined ${code}:`, 'm'));
  const after = quarantineRows(stateDir());
  expect(after).toHaveLength(rows + 1);
  expect(after.at(-1)?.reason_code).toBe(code);
  expect(maildirCounts(mailRoot, HOST_ADDRESS)).toEqual({ ...hostBox, quarantine: hostBox.quarantine + 1 });
  expect(sent()).toEqual(before);
}

describe('parts-requests the host must not answer', () => {
  let answered: Buffer;

  it('control: a request signed by the agent of the rollout is answered with just that part', async () => {
    answered = await askMail({ agent: A, missing: [2] });
    dropMail(mailRoot, HOST_ADDRESS, answered);
    const r = await rdsExpect(0, ['--config', host.config, '--json', 'inbox'], { cwd: root });
    expect((JSON.parse(r.stdout) as { processed: { outcome: string }[] }).processed.map((p) => p.outcome)).toEqual(['re-sent part 2']);
    expect([A, B, C].map(mailsOf)).toEqual([1, 0, 0]);
    for (const agent of [A, B, C]) clearBox(agent);
  });

  hostileCase('forged: signed by a key nobody registered, from A', async () => {
    await expectQuarantined(await askMail({ agent: A, key: await freshKey('forger') }), REFUSAL.UNKNOWN_KEY);
  });

  hostileCase("forged: A's address and id, signed with B's key", async () => {
    await expectQuarantined(await askMail({ agent: A, key: keys[B.id] }), REFUSAL.UNKNOWN_KEY);
  });

  hostileCase('replayed: the answered request delivered again', async () => {
    await expectQuarantined(answered, REFUSAL.REPLAYED);
  });

  hostileCase("another agent's rollout: C, registered after the push, asks for its parts", async () => {
    await expectQuarantined(await askMail({ agent: C }), REFUSAL.PACKAGE_MISMATCH);
  });
});
