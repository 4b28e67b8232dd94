// Issue 13, the host side: push-all sends a package too large for one mail as update-part
// mails (docs/protocol.md#update-parts), each within the host's maxMessageSize, and `rds
// inbox` answers an agent's parts-request by re-sending exactly the listed parts, a bounded
// number of times. The real binary on the embedded Maildir backend; the agents are real
// agents that reassemble and install (core/agent/parts-handler.ts).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPrivateKeyFile, readPublicKeyFile } from '../../src/core/crypto/keys.js';
import { verifySignedData } from '../../src/core/crypto/signed-data.js';
import { composeMail, parseRdsMail } from '../../src/core/message/mail.js';
import { decodePayload, signPayload } from '../../src/core/message/payload.js';
import { PARTS_REQUEST } from '../../src/core/protocol/parts-request.js';
import { PART_ATTACHMENT, type UpdatePartBody } from '../../src/core/protocol/update-part.js';
import { sentPayloads } from '../support/agent-outbox.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir, writeScript } from '../support/cli.js';
import { dropInto } from '../support/update-parts.js';

const LIMIT = 200_000;
const MODULE_BYTES = 700_000;
let root: string;
let mailRoot: string;
let host: HostNode;
let agents: AgentNode[];
let file: string;
/** the rollout push-all started and its package */
const pushed = { rolloutId: '', packageId: '' };

const run = (node: { config: string }, expected: number, args: string[], env: Record<string, string> = {}) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root, env });
const box = (id: string) => path.join(mailRoot, `${id.toLowerCase()}@example.com`, 'new');
const mailFiles = (id: string) => (fs.existsSync(box(id)) ? fs.readdirSync(box(id)).map((f) => path.join(box(id), f)) : []);
const version = async (a: AgentNode) => /^Software Version\t(\S+)$/m.exec((await run(a, 0, ['versions'])).stdout)?.[1];

interface SeenPart {
  file: string;
  size: number;
  body: UpdatePartBody & { pkesk?: string; totalSize?: number; partHashes?: string[] };
  bytes: Buffer;
}

/** Every update-part mail in AGENT's inbox, its payload checked with the host's key. */
async function partsIn(id: string): Promise<SeenPart[]> {
  const key = await readPublicKeyFile(host.publicKeyFile);
  const out: SeenPart[] = [];
  for (const f of mailFiles(id)) {
    const raw = fs.readFileSync(f);
    const mail = await parseRdsMail(raw);
    const payload = decodePayload(await verifySignedData(mail.armoredPayload as string, key));
    if (payload.type !== 'update-part') continue;
    out.push({
      file: f,
      size: raw.length,
      body: payload.body as unknown as SeenPart['body'],
      bytes: mail.attachments.get(PART_ATTACHMENT) as Buffer,
    });
  }
  return out.sort((a, b) => a.body.part - b.body.part);
}

/** `rds inbox` (exit 0): the outcome of each message it took in, oldest first. */
async function inboxOutcomes(): Promise<string[]> {
  const r = await run(host, 0, ['--json', 'inbox']);
  return (JSON.parse(r.stdout) as { processed: { outcome: string }[] }).processed.map((p) => p.outcome);
}

/** A parts-request signed by AGENT's own key, delivered to the host's Maildir. */
async function askFor(agent: AgentNode, body: { rolloutId: string; packageId: string; missing: number[] }): Promise<void> {
  const key = await readPrivateKeyFile(path.join(agent.dir, 'keys', 'private.asc'));
  const issued = new Date();
  const id = randomUUID();
  const payload = {
    format: 1,
    type: PARTS_REQUEST,
    id,
    from: agent.id,
    to: ['HOST'],
    issuedAt: issued.toISOString(),
    expiresAt: new Date(issued.getTime() + 86_400_000).toISOString(),
    body,
  };
  const { raw } = await composeMail({
    from: `${agent.id.toLowerCase()}@example.com`,
    to: 'host@example.com',
    subject: 'parts-request',
    text: 'parts-request',
    type: PARTS_REQUEST,
    payloadId: id,
    armoredPayload: await signPayload(payload as never, key),
  });
  dropInto(mailRoot, { id: 'HOST' } as AgentNode, raw);
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('s23-push-parts-');
  mailRoot = path.join(root, 'mail');
  host = await initHost(root);
  const config = JSON.parse(fs.readFileSync(host.config, 'utf8'));
  fs.writeFileSync(host.config, JSON.stringify({ ...config, maxMessageSize: LIMIT, parts: { maxResends: 2 } }, null, 2));
  agents = [];
  for (const id of ['AGENT0000001', 'AGENT0000002']) agents.push(await initAgent(root, host, { id }));
  const module = path.join(root, 'main.bin');
  fs.writeFileSync(module, randomBytes(MODULE_BYTES)); // incompressible: the package is about this big
  file = path.join(root, 'up.rdsu');
  const install = writeScript(path.join(root, 'install.sh'), 'cp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"');
  // biome-ignore format: one flag and its value per line
  await run(host, 0, ['pack-update',
    '--software-version', '1.0.02-0',
    '--script', install,
    '--module', `main.bin=1.0.02:${module}`,
    '-o', file,
  ]);
}, 180_000);

describe('push-all of a package larger than maxMessageSize', () => {
  let parts: SeenPart[][];
  let rolloutId: string;

  it('--dry-run shows the parts per agent and the mail bytes, and sends nothing', async () => {
    const r = await run(host, 0, ['--json', 'push-all', '--dry-run', file]);
    const data = JSON.parse(r.stdout) as { parts: { perAgent: number; agentBytes: number }; plan: { mails: number; bytes: number }[] };
    const min = Math.ceil(fs.statSync(file).size / LIMIT);
    expect(data.parts.perAgent).toBeGreaterThanOrEqual(min);
    expect(data.plan[0]?.mails).toBe(2 * data.parts.perAgent);
    expect(data.plan[0]?.bytes).toBe(2 * data.parts.agentBytes);
    const text = await run(host, 0, ['push-all', '--dry-run', file]);
    expect(text.stdout).toMatch(new RegExp(`^in parts: ${data.parts.perAgent} part mails per agent`, 'm'));
    expect(mailFiles('AGENT0000001')).toEqual([]);
  });

  it('goes out as N part mails per agent, each within the limit, N >= package / limit', async () => {
    const r = await run(host, 0, ['--json', 'push-all', file]);
    rolloutId = (JSON.parse(r.stdout) as { rolloutId: string }).rolloutId;
    parts = [await partsIn('AGENT0000001'), await partsIn('AGENT0000002')];
    const n = parts[0]?.length as number;
    expect(n).toBeGreaterThanOrEqual(Math.ceil(fs.statSync(file).size / LIMIT));
    expect(parts[1]).toHaveLength(n);
    for (const list of parts) {
      expect(list.map((p) => p.body.part)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      for (const p of list) expect(p.size).toBeLessThanOrEqual(LIMIT);
    }
  });

  it("part 1 signs the agent's pkesk, the total size and every part's hash; the bytes match them", async () => {
    for (const list of parts) {
      const first = list[0]?.body as SeenPart['body'];
      const hashes = list.map((p) => createHash('sha256').update(p.bytes).digest('hex'));
      expect(first.partHashes).toEqual(hashes);
      expect(first.totalSize).toBe(list.reduce((t, p) => t + p.bytes.length, 0));
      expect(list.map((p) => p.body.sha256)).toEqual(hashes);
      expect(first.rolloutId).toBe(rolloutId);
    }
    pushed.rolloutId = rolloutId;
    pushed.packageId = parts[0]?.[0]?.body.packageId as string;
    // the body is shared, the wrapped key is each agent's own
    expect(parts[0]?.map((p) => p.body.sha256)).toEqual(parts[1]?.map((p) => p.body.sha256));
    expect(parts[0]?.[0]?.body.pkesk).not.toBe(parts[1]?.[0]?.body.pkesk);
  });

  it('the rollout counts one attempt per agent, sent with its last part (migration 016)', () => {
    const db = new Database(path.join(host.dir, 'state', 'state.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db
        .prepare('SELECT agent_id, status, state, attempts FROM rollout_agents WHERE rollout_id = ? ORDER BY agent_id')
        .all(pushed.rolloutId);
      expect(rows).toEqual(agents.map((a) => ({ agent_id: a.id, status: 'sent', state: 'sent', attempts: 1 })));
    } finally {
      db.close();
    }
  });

  it('the first agent reassembles and installs', async () => {
    await run(agents[0] as AgentNode, 0, ['poll-mail']);
    expect(await version(agents[0] as AgentNode)).toBe('1.0.02-0');
  });

  it('a part mail lost on the way: the agent asks, `rds inbox` re-sends only that part, the agent installs', async () => {
    const agent = agents[1] as AgentNode;
    const lost = parts[1]?.[1] as SeenPart;
    fs.rmSync(lost.file);
    await run(agent, 0, ['poll-mail']);
    await run(agent, 0, ['poll-mail', '--request-missing-after', '1m'], { RDS_TEST_CLOCK_OFFSET_MS: String(2 * 60_000) });
    expect((await sentPayloads(agent, PARTS_REQUEST)).map((p) => (p.body as { missing: number[] }).missing)).toEqual([[2]]);
    expect(await inboxOutcomes()).toEqual(['installed', 're-sent part 2']);
    const again = await partsIn(agent.id);
    expect(again.map((p) => p.body.part)).toEqual([2]);
    expect(again[0]?.body.sha256).toBe(lost.body.sha256);
    await run(agent, 0, ['poll-mail']);
    expect(await version(agent)).toBe('1.0.02-0');
    expect(await inboxOutcomes()).toEqual(['installed']);
  });
});

describe('parts-requests the host takes in', () => {
  let rolloutId: string;
  let packageId: string;
  let agent: AgentNode;

  beforeAll(async () => {
    agent = agents[0] as AgentNode;
    ({ rolloutId, packageId } = pushed);
    for (const f of mailFiles(agent.id)) fs.rmSync(f);
  });

  it('answers the listed parts only, each time with fresh payload ids', async () => {
    await askFor(agent, { rolloutId, packageId, missing: [1, 3] });
    expect(await inboxOutcomes()).toEqual(['re-sent parts 1,3']);
    const sent = await partsIn(agent.id);
    expect(sent.map((p) => p.body.part)).toEqual([1, 3]);
    expect(sent[0]?.body.partHashes).toHaveLength(sent[0]?.body.parts as number);
  });

  it('beyond parts.maxResends (2) a request is recorded, not answered, and shown by rollout status', async () => {
    for (const f of mailFiles(agent.id)) fs.rmSync(f);
    await askFor(agent, { rolloutId, packageId, missing: [2] });
    expect(await inboxOutcomes()).toEqual(['re-sent part 2']);
    await askFor(agent, { rolloutId, packageId, missing: [2] });
    expect(await inboxOutcomes()).toEqual(['not answered: answered 2 times already (parts.maxResends)']);
    expect((await partsIn(agent.id)).map((p) => p.body.part)).toEqual([2]);
    const status = await run(host, 0, ['rollout', 'status', rolloutId]);
    expect(status.stdout).toMatch(/^parts: \d+ per agent; requests: AGENT0000001 3 \(2 answered, 1 not\)/m);
  });

  it('a part beyond N is refused PART_OUT_OF_RANGE (exit 4), nothing sent', async () => {
    for (const f of mailFiles(agent.id)) fs.rmSync(f);
    await askFor(agent, { rolloutId, packageId, missing: [9999] });
    const r = await rds(['--config', host.config, 'inbox'], { cwd: root });
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^quarantined PART_OUT_OF_RANGE: parts-request: part 9999 is beyond the \d+ parts/m);
    expect(mailFiles(agent.id)).toEqual([]);
  });

  it('another package or an unknown rollout is refused PACKAGE_MISMATCH (exit 4), nothing sent', async () => {
    await askFor(agent, { rolloutId, packageId: 'P-other', missing: [1] });
    const other = await rds(['--config', host.config, 'inbox'], { cwd: root });
    expect(other.code).toBe(4);
    expect(other.stdout).toMatch(/^quarantined PACKAGE_MISMATCH: parts-request: rollout \S+ pushed package \S+, not P-other$/m);
    await askFor(agent, { rolloutId: 'R00000000000000-nothere', packageId, missing: [1] });
    const unknown = await rds(['--config', host.config, 'inbox'], { cwd: root });
    expect(unknown.code).toBe(4);
    expect(unknown.stdout).toMatch(/^quarantined PACKAGE_MISMATCH: parts-request: AGENT0000001 is in no rollout R00000000000000-nothere$/m);
    expect(mailFiles(agent.id)).toEqual([]);
  });
});
