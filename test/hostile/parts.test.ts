// Hostile update parts (issue 13, docs/protocol.md#update-parts) to an agent, through the real
// binary (`rds poll-mail`) on the embedded Maildir backend: each case drops crafted part mails
// into the agent's Maildir and checks its own reason code (--json and the quarantine table),
// the exit code, that the mail moved to quarantine (nothing lost, nothing left in the inbox)
// and that nothing was installed: the package's install script writes a marker file outside
// the stage. Disk full half way puts the agent's STATE/parts on a small tmpfs (root only).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { REFUSAL } from '../../src/core/errors.js';
import type { UpdateResultBody } from '../../src/core/protocol/update-result.js';
import { sentPayloads } from '../support/agent-outbox.js';
import {
  type AgentNode,
  ensureBuilt,
  type HostNode,
  initAgent,
  initHost,
  rds,
  rdsExpect,
  tempDir,
  wrapForAgent,
  writeScript,
} from '../support/cli.js';
import { dropInto, type PartMailsInput, partMails, type TakenUpdate } from '../support/update-parts.js';
import { expectAbsent, freshKey, hostileTally, maildirCounts, privateKeyOf, quarantineRows } from './helpers.js';

const { hostileCase } = hostileTally('parts');

let root: string;
let mailRoot: string;
let host: HostNode;
let A: AgentNode;
let B: AgentNode;
let marker: string;
let pkgFile: string;
let bigPkgFile: string;
let rogueKey: openpgp.PrivateKey;
let rollouts = 0;
const mounts: string[] = [];

const addressOf = (agent: AgentNode) => `${agent.id.toLowerCase()}@example.com`;

function withParts(agent: AgentNode, parts: Record<string, unknown>): void {
  const config = JSON.parse(fs.readFileSync(agent.config, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(agent.config, JSON.stringify({ ...config, parts }, null, 2), { mode: 0o600 });
}

/** This agent's package (pkesk ‖ shared body), announced by a rollout of its own. */
async function taken(agent: AgentNode, file: string): Promise<TakenUpdate> {
  const pkg = fs.readFileSync(await wrapForAgent(host, file, agent.publicKeyFile, path.join(root, `${agent.id}-${++rollouts}.rdsu`)));
  return { update: { rolloutId: `R-parts-${rollouts}`, softwareVersion: '1.0.02-0' }, pkg };
}

async function mailsFor(agent: AgentNode, partSize: number, bend?: PartMailsInput['bend']) {
  // parts of 100 kB and more: the big package (~400 kB, incompressible); else the small one
  const file = partSize >= 100_000 ? bigPkgFile : pkgFile;
  return partMails({ host, agent, taken: await taken(agent, file), partSize, ...(bend ? { bend } : {}) });
}

interface Polled {
  code: number | null;
  json: { processed: { outcome: string }[]; quarantined: { code: string; reason: string }[] };
}

async function poll(agent: AgentNode): Promise<Polled> {
  const r = await rds(['--json', '--config', agent.config, 'poll-mail'], { cwd: root });
  return { code: r.code, json: JSON.parse(r.stdout || '{"processed":[],"quarantined":[]}') };
}

/** One crafted part mail: refused with `code` (exit 4), quarantined, nothing installed. */
async function expectRefused(agent: AgentNode, raw: Buffer, code: string): Promise<void> {
  const before = maildirCounts(mailRoot, addressOf(agent));
  dropInto(mailRoot, agent, raw);
  const polled = await poll(agent);
  expect(polled.code).toBe(4);
  expect(polled.json.quarantined.map((q) => q.code)).toEqual([code]);
  expect(quarantineRows(agent.stateDir).at(-1)?.reason_code).toBe(code);
  const after = maildirCounts(mailRoot, addressOf(agent));
  expect([after.inbox, after.quarantine]).toEqual([0, before.quarantine + 1]);
  expectAbsent(marker);
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-hostile-parts-');
  mailRoot = path.join(root, 'mail');
  host = await initHost(root);
  A = await initAgent(root, host, { id: 'AGENTA' });
  B = await initAgent(root, host, { id: 'AGENTB' });
  withParts(A, { maxParts: 20, maxTotalBytes: 50_000 });
  marker = path.join(root, 'EXECUTED');
  const script = writeScript(
    path.join(root, 'install.sh'),
    `echo ran >> '${marker}'\ncp -R "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"`,
  );
  const pack = async (name: string, bytes: Buffer) => {
    fs.writeFileSync(path.join(root, `${name}.bin`), bytes);
    const file = path.join(root, `${name}.rdsu`);
    // biome-ignore format: one flag and its value per line
    await rdsExpect(0, ['--config', host.config, 'pack-update',
      '--software-version', '1.0.02-0',
      '--script', script,
      '--module', `main.bin=1.0.01:${path.join(root, `${name}.bin`)}`,
      '-o', file], { cwd: root });
    return file;
  };
  pkgFile = await pack('small', Buffer.from('main v1.0.01\n'));
  bigPkgFile = await pack('big', randomBytes(400_000));
  rogueKey = await freshKey('HOST');
}, 120_000);

afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m]);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('each hostile part is refused with its own code; nothing stored, run or lost', () => {
  hostileCase('a part signed by an unknown key: UNKNOWN_KEY', async () => {
    const [m] = await mailsFor(A, 300, (_n, p) => {
      p.key = rogueKey;
    });
    await expectRefused(A, m?.raw as Buffer, REFUSAL.UNKNOWN_KEY);
  });

  hostileCase("a part of another agent's package (addressed to B, in A's mailbox): NOT_FOR_ME", async () => {
    const [m] = await mailsFor(B, 300);
    await expectRefused(A, m?.raw as Buffer, REFUSAL.NOT_FOR_ME);
  });

  hostileCase("another agent's key posing as the host on a part: UNKNOWN_KEY", async () => {
    const keyB = await privateKeyOf(path.join(B.dir, 'keys', 'private.asc'));
    const [, m] = await mailsFor(A, 300, (_n, p) => {
      p.key = keyB;
    });
    await expectRefused(A, m?.raw as Buffer, REFUSAL.UNKNOWN_KEY);
  });

  hostileCase('a part number beyond N: PART_OUT_OF_RANGE', async () => {
    const mails = await mailsFor(A, 300, (n, p) => {
      if (n === 2) p.body.part = p.body.parts + 1;
    });
    await expectRefused(A, mails[1]?.raw as Buffer, REFUSAL.PART_OUT_OF_RANGE);
  });

  hostileCase("N beyond the agent's parts.maxParts (20): TOO_MANY_PARTS, the host told once", async () => {
    const mails = await mailsFor(A, 300, (n, p) => {
      if (n === 2) p.body.parts = 21;
    });
    const before = (await sentPayloads(A, 'update-result')).length;
    await expectRefused(A, mails[1]?.raw as Buffer, REFUSAL.TOO_MANY_PARTS);
    const results = (await sentPayloads<UpdateResultBody>(A, 'update-result')).slice(before).map((p) => p.body);
    expect(results.map((b) => [b.outcome, b.reasonCode])).toEqual([['refused', REFUSAL.TOO_MANY_PARTS]]);
  });

  hostileCase('N beyond the wire limit (10,001): TOO_MANY_PARTS', async () => {
    const mails = await mailsFor(A, 300, (n, p) => {
      if (n === 3) p.body.parts = 10_001;
    });
    await expectRefused(A, mails[2]?.raw as Buffer, REFUSAL.TOO_MANY_PARTS);
  });

  hostileCase("a part list that does not start with part 1's own hash: PART_LIST_MISMATCH", async () => {
    const [m] = await mailsFor(A, 300, (n, p) => {
      if (n === 1 && p.body.first) p.body.first.partHashes = [...p.body.first.partHashes].reverse();
    });
    await expectRefused(A, m?.raw as Buffer, REFUSAL.PART_LIST_MISMATCH);
  });

  hostileCase('a part list shorter than N: PART_LIST_MISMATCH', async () => {
    const [m] = await mailsFor(A, 300, (n, p) => {
      if (n === 1 && p.body.first) p.body.first.partHashes = p.body.first.partHashes.slice(0, -1);
    });
    await expectRefused(A, m?.raw as Buffer, REFUSAL.PART_LIST_MISMATCH);
  });

  hostileCase('a part whose bytes are not the ones it signed: PART_HASH_MISMATCH', async () => {
    const mails = await mailsFor(A, 300, (n, p) => {
      if (n === 2) p.bytes = Buffer.from(p.bytes.map((b) => b ^ 1));
    });
    await expectRefused(A, mails[1]?.raw as Buffer, REFUSAL.PART_HASH_MISMATCH);
  });

  hostileCase('a total beyond parts.maxTotalBytes (50,000): PACKAGE_TOO_LARGE', async () => {
    const [m] = await mailsFor(A, 300, (n, p) => {
      if (n === 1 && p.body.first) p.body.first.totalSize = 50_001;
    });
    await expectRefused(A, m?.raw as Buffer, REFUSAL.PACKAGE_TOO_LARGE);
  });

  hostileCase('a replayed part mail: REPLAYED (the first copy stored, the second quarantined)', async () => {
    const mails = await mailsFor(A, 300);
    dropInto(mailRoot, A, mails[1]?.raw as Buffer);
    const first = await poll(A);
    expect([first.code, first.json.processed.map((p) => p.outcome)]).toEqual([0, ['kept (no part 1 yet)']]);
    await expectRefused(A, mails[1]?.raw as Buffer, REFUSAL.REPLAYED);
  });

  hostileCase('a third package while two are in reassembly (parts.maxPackages 2): REASSEMBLY_FULL', async () => {
    const second = await mailsFor(A, 300);
    dropInto(mailRoot, A, second[1]?.raw as Buffer);
    expect((await poll(A)).code).toBe(0);
    const third = await mailsFor(A, 300);
    await expectRefused(A, third[1]?.raw as Buffer, REFUSAL.REASSEMBLY_FULL);
  });
});

describe.runIf(process.getuid?.() === 0)('the disk (STATE/parts on a small tmpfs)', () => {
  let C: AgentNode;
  let parts: string;

  beforeAll(async () => {
    C = await initAgent(root, host, { id: 'AGENTC' });
    parts = path.join(C.stateDir, 'parts');
    fs.mkdirSync(parts, { mode: 0o700 });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', parts]);
    mounts.push(parts);
  }, 120_000);

  hostileCase('disk full half way: DISK_FULL, exit 3, the mail stays in the inbox; freed, the same mail completes it', async () => {
    const mails = await mailsFor(C, 100_000); // ~400 kB in 5 parts: 2 × fits in 1 MB
    dropInto(mailRoot, C, mails[0]?.raw as Buffer);
    expect((await poll(C)).code).toBe(0);
    const filler = path.join(parts, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(1024 * 1024 - 150_000 - 4096 * 4));
    for (const m of mails.slice(1)) dropInto(mailRoot, C, m.raw);
    const full = await rds(['--config', C.config, 'poll-mail'], { cwd: root });
    expect(full.code).toBe(3);
    expect(full.stderr).toMatch(/no space left on the device of .*parts \(ENOSPC\)/);
    expect(maildirCounts(mailRoot, addressOf(C)).quarantine).toBe(0);
    expect(maildirCounts(mailRoot, addressOf(C)).inbox).toBeGreaterThan(0);
    expectAbsent(marker);
    fs.rmSync(filler);
    const polled = await poll(C);
    expect(polled.code).toBe(0);
    expect(polled.json.processed.at(-1)?.outcome).toBe('installed');
    expect(fs.readFileSync(marker, 'utf8')).toBe('ran\n');
    fs.rmSync(marker);
  });

  hostileCase('no room for the whole package before its first part: NO_SPACE told to the host, nothing stored', async () => {
    fs.writeFileSync(path.join(parts, 'filler'), Buffer.alloc(700_000));
    const mails = await mailsFor(C, 100_000);
    dropInto(mailRoot, C, mails[0]?.raw as Buffer);
    const polled = await poll(C);
    expect([polled.code, polled.json.processed.map((p) => p.outcome)]).toEqual([0, ['refused']]);
    const last = (await sentPayloads<UpdateResultBody>(C, 'update-result')).at(-1)?.body;
    expect([last?.outcome, last?.reasonCode]).toEqual(['refused', 'NO_SPACE']);
    expect(fs.readdirSync(parts)).toEqual(['filler']);
    expectAbsent(marker);
  });
});
