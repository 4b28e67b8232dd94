// Issue 12, offline updates: `rds export-update FILE --agent ID` writes the update mail
// push-all would send that agent into a file (.rdsx); on the agent `rds apply-update FILE`
// installs it with every check of the mail path and queues the update-result, which the
// next poll-mail mails and the host's `rds inbox` records in the rollout. Every other agent
// refuses the file (PACKAGE_NOT_FOR_ME), as it refuses a tampered, replayed or expired one.
// A host and three agents on the embedded maildir:// backend, the real binary throughout.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPrivateKeyFile } from '../../src/core/crypto/keys.js';
import { prepareUpdateMail, readOwnPackage } from '../../src/core/host/push-all.js';
import { buildUpdateMail } from '../../src/core/outbox/update-mail.js';
import { toExportFile } from '../../src/core/package/export-file.js';
import { readPackageFile, recoverSessionKey, splitPackage } from '../../src/core/package/wrap.js';
import {
  type AgentNode,
  currentRelease,
  ensureBuilt,
  type HostNode,
  initAgent,
  initHost,
  rds,
  rdsExpect,
  releaseVersion,
  stageLeftovers,
  tempDir,
} from '../support/cli.js';
import { installRuns, writeInstallScript } from '../support/fleet.js';

let root: string;
let host: HostNode;
let a1: AgentNode;
let a2: AgentNode;
let a3: AgentNode;
let pkg: string;
let pkg2: string;

const run = (node: { config: string }, expected: number, ...args: string[]) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root });
const json = async <T>(node: { config: string }, expected: number, ...args: string[]) =>
  JSON.parse((await run(node, expected, '--json', ...args)).stdout) as T;

interface RolloutLine {
  id: string;
  agents: number;
  sent: number;
  installed: number;
  failed: number;
  pending: number;
}
const rollout = async (id: string) => (await json<{ rollouts: RolloutLine[] }>(host, 0, 'rollouts')).rollouts.find((r) => r.id === id);
const outboxKinds = async (agent: AgentNode) =>
  (await json<{ items: { kind: string; state: string }[] }>(agent, 0, 'outbox', 'list', '--all')).items.map((i) => `${i.kind} ${i.state}`);

/** How often the install script ran on AGENT (writeInstallScript counts). */
const runs = (agent: AgentNode) => installRuns({ ...agent, address: `${agent.id.toLowerCase()}@example.com` });

/** A refused apply: exactly CODE, exit 4, one line naming it; nothing installed, no script run. */
async function expectRefused(agent: AgentNode, file: string, code: string): Promise<string> {
  const before = currentRelease(agent);
  const r = await rds(['--json', '--config', agent.config, 'apply-update', file], { cwd: root });
  expect(r.code, r.stderr).toBe(4);
  const error = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
  expect(error.code, error.message).toBe(code);
  expect(r.stderr).not.toMatch(/this is a bug/);
  expect(currentRelease(agent)).toBe(before);
  expect(runs(agent)).toBe(0);
  expect(stageLeftovers(agent)).toEqual([]);
  return error.message;
}

async function pack(version: string): Promise<string> {
  const file = path.join(root, `up-${version}.rdsu`);
  const module = path.join(root, 'main.cgi');
  fs.writeFileSync(module, `main ${version}\n`);
  const script = writeInstallScript(root);
  await run(
    host,
    0,
    'pack-update',
    '--software-version',
    version,
    '--script',
    script,
    '--module',
    `main.cgi=${version}:${module}`,
    '-o',
    file,
  );
  return file;
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('i12-export-');
  host = await initHost(root);
  a1 = await initAgent(root, host, { id: 'AGENT0000001' });
  a2 = await initAgent(root, host, { id: 'AGENT0000002' });
  a3 = await initAgent(root, host, { id: 'AGENT0000003' });
  pkg = await pack('1.0.02-0');
  pkg2 = await pack('1.0.03-0');
}, 120_000);

describe('export-update → apply-update: installed and counted in the rollout', () => {
  let file: string;
  let rolloutId: string;

  it('the host writes update-VERSION-AGENT.rdsx (0600, the marker line first) and counts the agent as sent in a new rollout', async () => {
    const out = await json<{ file: string; rolloutId: string; newRollout: boolean; target: string; agentId: string }>(
      host,
      0,
      'export-update',
      pkg,
      '--agent',
      a1.id,
    );
    file = path.join(root, 'update-1.0.02-0-AGENT0000001.rdsx');
    expect(out).toMatchObject({ file, newRollout: true, target: '1.0.02-0', agentId: a1.id });
    rolloutId = out.rolloutId;
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'latin1').split('\r\n')[0]).toBe('X-RDS-Export: 1');
    expect(await rollout(rolloutId)).toMatchObject({ agents: 1, sent: 1, installed: 0, failed: 0, pending: 1 });
  });

  it('the agent installs it and queues the update-result; poll-mail sends it; the host records installed', async () => {
    const applied = await run(a1, 0, 'apply-update', file);
    expect(applied.stdout).toMatch(/^installed 1\.0\.02-0 \(was 1\.0\.00-1\), package [0-9a-f-]{36}$/m);
    expect(applied.stdout).toContain(`the update result for rollout ${rolloutId} is queued for the host`);
    expect(releaseVersion(currentRelease(a1))).toBe('1.0.02-0');
    expect(runs(a1)).toBe(1);
    expect(await outboxKinds(a1)).toEqual(['update-result queued']);
    expect((await run(a1, 0, 'poll-mail')).stdout).toMatch(/1 sent/);
    await run(host, 0, 'inbox');
    expect(await rollout(rolloutId)).toMatchObject({ agents: 1, sent: 1, installed: 1, failed: 0, pending: 0 });
    const shown = await json<{ rollouts: { rolloutId: string; status: string; result: string; resultVersion: string }[] }>(
      host,
      0,
      'agents',
      'show',
      a1.id,
    );
    expect(shown.rollouts[0]).toMatchObject({ rolloutId, status: 'sent', result: 'installed', resultVersion: '1.0.02-0' });
  });

  it('the same file again is a replay: REPLAYED, exit 4, the script does not run again', async () => {
    const r = await rds(['--json', '--config', a1.config, 'apply-update', file], { cwd: root });
    expect(r.code, r.stderr).toBe(4);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe('REPLAYED');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/export a new one on the host/);
    expect(runs(a1)).toBe(1);
  });

  it('every other agent refuses it: PACKAGE_NOT_FOR_ME, exit 4, nothing installed, nothing queued or stored', async () => {
    for (const other of [a2, a3]) {
      const message = await expectRefused(other, file, 'PACKAGE_NOT_FOR_ME');
      expect(message).toMatch(/not encrypted for this node's key [0-9A-F]{40}/);
      expect(await outboxKinds(other)).toEqual([]);
      const incoming = path.join(other.stateDir, 'incoming');
      expect(fs.existsSync(incoming) ? fs.readdirSync(incoming) : []).toEqual([]);
    }
  });
});

describe('exports the agent refuses', () => {
  it('one base64 character of the package changed: PACKAGE_TAMPERED, exit 4; the refusal is queued for the host', async () => {
    const file = path.join(root, 'tampered.rdsx');
    await run(host, 0, 'export-update', pkg, '--agent', a2.id, '-o', file);
    const text = fs.readFileSync(file, 'latin1');
    const start = text.indexOf('\r\n\r\n', text.indexOf('filename=update.rdsu')) + 4;
    const end = text.indexOf('\r\n--', start);
    let at = Math.floor((start + end) / 2);
    while (!/[A-Za-z0-9]/.test(text[at] as string)) at++;
    fs.writeFileSync(file, text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1), 'latin1');
    expect(await expectRefused(a2, file, 'PACKAGE_TAMPERED')).toMatch(/package does not decrypt intact/);
    expect(await outboxKinds(a2)).toEqual(['update-result queued']);
  });

  it('an export past its validity (made with a clock 31 days back, valid 30 days): EXPIRED, exit 4', async () => {
    const hostKey = await readPrivateKeyFile(host.keyFile);
    const clock = { now: () => new Date(Date.now() - 31 * 86_400_000) };
    const self = { id: 'HOST', address: 'host@example.com', key: hostKey };
    const manifest = await readOwnPackage(pkg, hostKey);
    const split = splitPackage(readPackageFile(pkg));
    const agent = {
      id: a3.id,
      address: 'agent0000003@example.com',
      publicKey: fs.readFileSync(a3.publicKeyFile, 'utf8'),
      fingerprint: '',
      note: '',
      version: null,
      checkedAt: null,
    };
    const recipe = await prepareUpdateMail({ self, file: pkg, ttlMs: 30 * 86_400_000, clock }, agent, 'R-old', manifest, {
      ...(await recoverSessionKey(split.prefix, hostKey)),
    });
    const file = path.join(root, 'expired.rdsx');
    fs.writeFileSync(file, toExportFile(await buildUpdateMail(recipe, split.body)));
    expect(await expectRefused(a3, file, 'EXPIRED')).toMatch(/expired at/);
  });
});

describe('export-update: mistakes on the host (exit 2, nothing written, nothing recorded)', () => {
  it('an agent that is not registered: UNKNOWN_AGENT', async () => {
    const before = (await json<{ rollouts: unknown[] }>(host, 0, 'rollouts')).rollouts.length;
    const r = await run(host, 2, 'export-update', pkg, '--agent', 'AGENT0000099');
    expect(r.stderr.trim().split('\n')).toEqual(["rds: no agent 'AGENT0000099' in the registry (rds agents list shows the ids)"]);
    expect(fs.existsSync(path.join(root, 'update-1.0.02-0-AGENT0000099.rdsx'))).toBe(false);
    expect((await json<{ rollouts: unknown[] }>(host, 0, 'rollouts')).rollouts).toHaveLength(before);
  });

  it('an existing output file is kept without --force (OUTPUT_EXISTS); --force replaces it, mode 0600', async () => {
    const file = path.join(root, 'taken.rdsx');
    fs.writeFileSync(file, 'keep me\n', { mode: 0o644 });
    const r = await rds(['--json', '--config', host.config, 'export-update', pkg, '--agent', a3.id, '-o', file], { cwd: root });
    expect(r.code, r.stderr).toBe(2);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe('OUTPUT_EXISTS');
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me\n');
    expect(fs.readdirSync(root).filter((n) => n.startsWith('taken.rdsx.tmp'))).toEqual([]);
    await run(host, 0, 'export-update', pkg, '--agent', a3.id, '-o', file, '--force');
    expect(fs.readFileSync(file, 'latin1').startsWith('X-RDS-Export: 1\r\n')).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['--valid-for 0s', ['--valid-for', '0s'], 'BAD_DURATION'],
    ['--valid-for 400d', ['--valid-for', '400d'], 'BAD_DURATION'],
    ['-o -', ['-o', '-'], 'BAD_OUTPUT'],
    ['--rollout of no rollout', ['--rollout', 'R20990101000000-deadbeef'], 'UNKNOWN_ROLLOUT'],
  ])('%s', async (_what, flags, code) => {
    const r = await rds(['--json', '--config', host.config, 'export-update', pkg, '--agent', a3.id, ...flags], { cwd: root });
    expect(r.code, r.stderr).toBe(2);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe(code);
  });
});

describe('the rollout an export counts in', () => {
  it('after push-all: the latest rollout of that package with the agent; --rollout of another package is refused', async () => {
    const pushed = await json<{ rolloutId: string }>(host, 0, 'push-all', pkg2, '--agents', a3.id);
    const out = await json<{ rolloutId: string; newRollout: boolean }>(host, 0, 'export-update', pkg2, '--agent', a3.id, '-o', 'a3.rdsx');
    expect(out).toEqual(expect.objectContaining({ rolloutId: pushed.rolloutId, newRollout: false }));
    expect(await rollout(pushed.rolloutId)).toMatchObject({ agents: 1, sent: 1 });
    const given = await json<{ rolloutId: string }>(
      host,
      0,
      'export-update',
      pkg2,
      '--agent',
      a2.id,
      '--rollout',
      pushed.rolloutId,
      '-o',
      'a2.rdsx',
    );
    expect(given.rolloutId).toBe(pushed.rolloutId);
    expect(await rollout(pushed.rolloutId)).toMatchObject({ agents: 2, sent: 2, pending: 2 });
    const r = await rds(['--json', '--config', host.config, 'export-update', pkg, '--agent', a2.id, '--rollout', pushed.rolloutId], {
      cwd: root,
    });
    expect(r.code, r.stderr).toBe(2);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code).toBe('ROLLOUT_OTHER_PACKAGE');
  });
});
