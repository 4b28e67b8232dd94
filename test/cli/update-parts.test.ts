// Issue 13, the agent side: an update too large for one mail arrives as update-part mails
// (docs/install.md#update-parts) and is reassembled and installed by the real binary, on the
// embedded Maildir backend. The part mails are cut in the test from push-all's own update
// mail (test/support/update-parts.ts), exactly as the wire format says, signed by the host.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PartsRequestBody } from '../../src/core/protocol/parts-request.js';
import type { UpdateResultBody } from '../../src/core/protocol/update-result.js';
import { sentPayloads } from '../support/agent-outbox.js';
import {
  type AgentNode,
  currentRelease,
  ensureBuilt,
  type HostNode,
  initAgent,
  initHost,
  modeOf,
  rds,
  rdsExpect,
  releaseVersion,
  tempDir,
  writeScript,
} from '../support/cli.js';
import { dropInto, type PartMail, partMails, type TakenUpdate, takeUpdateMail } from '../support/update-parts.js';

const MIN = 60_000;
let root: string;
let mailRoot: string;
let host: HostNode;

const run = (node: { config: string }, expected: number, args: string[], env: Record<string, string> = {}) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root, env });

async function pack(version: string, moduleBytes: number): Promise<string> {
  const module = path.join(root, `main-${version}.bin`);
  fs.writeFileSync(module, randomBytes(moduleBytes)); // incompressible: the package is about this big
  const file = path.join(root, `up-${version}.rdsu`);
  const install = writeScript(path.join(root, 'install.sh'), 'cp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"');
  // biome-ignore format: one flag and its value per line
  await run(host, 0, ['pack-update',
    '--software-version', version,
    '--script', install,
    '--module', `main.bin=${version.slice(0, 6)}:${module}`,
    '-o', file,
  ]);
  return file;
}

/** push-all to one agent, its update mail taken out of the Maildir and cut into parts. */
async function partsFor(agent: AgentNode, file: string, partSize: number): Promise<{ mails: PartMail[]; taken: TakenUpdate }> {
  await run(host, 0, ['push-all', file, '--agents', agent.id]);
  const taken = await takeUpdateMail(mailRoot, agent, host);
  return { mails: await partMails({ host, agent, taken, partSize }), taken };
}

const version = async (a: AgentNode) => /^Software Version\t(\S+)$/m.exec((await run(a, 0, ['versions'])).stdout)?.[1];
const partsDirs = (a: AgentNode) => {
  const dir = path.join(a.stateDir, 'parts');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('s23-parts-cli-');
  mailRoot = path.join(root, 'mail');
  host = await initHost(root);
}, 120_000);

describe('parts delivered in reverse order, one lost: asked for, then installed', () => {
  let agent: AgentNode;
  let mails: PartMail[];
  let taken: TakenUpdate;

  beforeAll(async () => {
    agent = await initAgent(root, host, { id: 'AGENT0000001' });
    ({ mails, taken } = await partsFor(agent, await pack('1.0.02-0', 600_000), 100_000));
  }, 120_000);

  it('the package is cut into 7 parts', () => {
    expect(mails.map((m) => m.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('parts 7…3 and 1 arrive (2 lost): stored 0600 under a 0700 folder, nothing installed, doctor shows 6 of 7', async () => {
    for (const m of [...mails].reverse()) if (m.n !== 2) dropInto(mailRoot, agent, m.raw);
    const polled = await run(agent, 0, ['poll-mail']);
    expect(polled.stdout.match(/^update-part \S+: (kept \(no part 1 yet\)|stored)$/gm)).toHaveLength(6);
    expect(await version(agent)).toBe('1.0.00-1');
    const [dir] = partsDirs(agent);
    const folder = path.join(agent.stateDir, 'parts', dir as string);
    expect(modeOf(folder)).toBe(0o700);
    expect(fs.readdirSync(folder).sort()).toEqual(['1.part', '3.part', '4.part', '5.part', '6.part', '7.part']);
    expect(modeOf(path.join(folder, '1.part'))).toBe(0o600);
    const doctor = JSON.parse((await run(agent, 0, ['--json', 'doctor'])).stdout) as { checks: { name: string; detail: string }[] };
    expect(doctor.checks.find((c) => c.name === 'update parts')?.detail).toMatch(
      /^1 package in reassembly: 1\.0\.02-0 \(package \S+\) 6 of 7 parts, /,
    );
  });

  it('before --request-missing-after nothing is asked; after it, a parts-request names part 2 only', async () => {
    await run(agent, 0, ['poll-mail', '--request-missing-after', '20m'], { RDS_TEST_CLOCK_OFFSET_MS: String(10 * MIN) });
    expect(await sentPayloads(agent, 'parts-request')).toEqual([]);
    const polled = await run(agent, 0, ['poll-mail', '--request-missing-after', '20m'], { RDS_TEST_CLOCK_OFFSET_MS: String(21 * MIN) });
    expect(polled.stdout).toMatch(/^parts-request for package \S+: 1 missing \(2\)$/m);
    const asked = await sentPayloads<PartsRequestBody>(agent, 'parts-request');
    expect(asked.map((p) => p.body.missing)).toEqual([[2]]);
    expect(asked[0]?.to).toEqual(['HOST']);
  });

  it('a tampered copy of part 2 is quarantined PART_HASH_MISMATCH (exit 4); nothing installed', async () => {
    const raw = Buffer.from(mails[1]?.raw as Buffer);
    // one base64 character of the attachment changed: the bytes no longer match the signed sha256
    const at = raw.lastIndexOf('Content-Disposition: attachment; filename=update.part');
    const body = raw.indexOf('\r\n\r\n', at) + 4;
    raw[body + 10] = raw[body + 10] === 0x41 ? 0x42 : 0x41;
    dropInto(mailRoot, agent, raw);
    const polled = await rds(['--config', agent.config, 'poll-mail'], { cwd: root });
    expect(polled.code).toBe(4);
    expect(polled.stdout).toMatch(
      /^quarantined PART_HASH_MISMATCH: part 2 of 7 of package \S+: its bytes do not match its signed sha256$/m,
    );
    expect(await version(agent)).toBe('1.0.00-1');
  });

  it('the re-sent part 2 completes the package: installed, the update-result sent, the parts deleted', async () => {
    dropInto(mailRoot, agent, mails[1]?.raw as Buffer);
    const polled = await run(agent, 0, ['poll-mail']);
    expect(polled.stdout).toMatch(/^update-part \S+: installed$/m);
    expect(await version(agent)).toBe('1.0.02-0');
    expect(releaseVersion(currentRelease(agent))).toBe('1.0.02-0');
    expect(partsDirs(agent)).toEqual([]);
    const results = (await sentPayloads<UpdateResultBody>(agent, 'update-result')).map((p) => p.body);
    expect(results).toEqual([expect.objectContaining({ outcome: 'installed', softwareVersion: '1.0.02-0' })]);
  });

  it('a late copy of a part (re-sent: a new mail) is dropped silently (exit 0), nothing installed again', async () => {
    const again = await partMails({ host, agent, taken, partSize: 100_000 });
    dropInto(mailRoot, agent, again[3]?.raw as Buffer);
    const polled = await run(agent, 0, ['poll-mail']);
    expect(polled.stdout).toMatch(/^update-part \S+: duplicate$/m);
    expect(await sentPayloads(agent, 'update-result')).toHaveLength(1);
  });

  it('the same part mail again is REPLAYED (exit 4)', async () => {
    dropInto(mailRoot, agent, mails[3]?.raw as Buffer);
    const polled = await rds(['--config', agent.config, 'poll-mail'], { cwd: root });
    expect(polled.code).toBe(4);
    expect(polled.stdout).toMatch(/^quarantined REPLAYED: /m);
  });
});

describe('a package that never completes', () => {
  it('is dropped after parts.deadline and the host hears refused PARTS_EXPIRED', async () => {
    const agent = await initAgent(root, host, { id: 'AGENT0000002' });
    const { mails } = await partsFor(agent, await pack('1.0.03-0', 250_000), 100_000);
    dropInto(mailRoot, agent, mails[0]?.raw as Buffer);
    await run(agent, 0, ['poll-mail']);
    expect(partsDirs(agent)).toHaveLength(1);
    const polled = await run(agent, 0, ['poll-mail'], { RDS_TEST_CLOCK_OFFSET_MS: String(7 * 24 * 60 * MIN) });
    expect(polled.stdout).toMatch(/^parts of package \S+ expired \(1 of 3\): PARTS_EXPIRED$/m);
    expect(partsDirs(agent)).toEqual([]);
    const results = (await sentPayloads<UpdateResultBody>(agent, 'update-result')).map((p) => p.body);
    expect(results).toEqual([expect.objectContaining({ outcome: 'refused', reasonCode: 'PARTS_EXPIRED', softwareVersion: '1.0.00-1' })]);
    expect(await version(agent)).toBe('1.0.00-1');
  });

  it('a bad --request-missing-after is a usage error (exit 2) naming the flag, before any mail is taken', async () => {
    const agent = await initAgent(root, host, { id: 'AGENT0000003' });
    const r = await rds(['--config', agent.config, 'poll-mail', '--request-missing-after', 'soon'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--request-missing-after: 'soon' is not a duration/);
  });
});
