// `rds rollouts` and `rds keys show`: the two read-only views an operator looks at before
// and after a push. A host and two agents on the embedded maildir:// backend: rollout 1 is
// installed by both; in rollout 2 agent 2's install script fails (rolled back) and agent 1
// has not polled yet (pending).
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rdsExpect, tempDir } from '../support/cli.js';
import { writeInstallScript } from '../support/fleet.js';

let root: string;
let host: HostNode;
let a1: AgentNode;
let a2: AgentNode;
const ids: string[] = [];

const run = (node: { config: string }, expected: number, ...args: string[]) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root });

async function pushVersion(version: string): Promise<string> {
  const pkg = path.join(root, `up-${version}.rdsu`);
  const module = path.join(root, 'main.cgi');
  fs.writeFileSync(module, `main ${version}\n`);
  await run(
    host,
    0,
    'pack-update',
    '--software-version',
    version,
    '--script',
    writeInstallScript(root),
    '--module',
    `main.cgi=${version}:${module}`,
    '-o',
    pkg,
  );
  const pushed = JSON.parse((await run(host, 0, '--json', 'push-all', pkg)).stdout) as { rolloutId: string };
  return pushed.rolloutId;
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('i10v-rollouts-');
  host = await initHost(root);
  a1 = await initAgent(root, host, { id: 'AGENT0000001' });
  a2 = await initAgent(root, host, { id: 'AGENT0000002' });

  ids.push(await pushVersion('1.0.02-0'));
  expect((await run(a1, 0, 'poll-mail')).stdout).toMatch(/update .*: installed/);
  expect((await run(a2, 0, 'poll-mail')).stdout).toMatch(/update .*: installed/);
  await run(host, 0, 'inbox');

  fs.writeFileSync(path.join(a2.installRoot, 'fail-install'), '');
  ids.push(await pushVersion('1.0.03-0'));
  expect((await run(a2, 1, 'poll-mail')).stdout).toMatch(/update .*: rolled-back/);
  await run(host, 0, 'inbox');
}, 120_000);

describe('rds rollouts', () => {
  it('--json: one entry per rollout, newest first, with exact counts', async () => {
    const r = await run(host, 0, '--json', 'rollouts');
    const { rollouts } = JSON.parse(r.stdout) as { rollouts: Record<string, unknown>[] };
    expect(rollouts.map((x) => x.id)).toEqual([ids[1], ids[0]]);
    const counts = rollouts.map(({ targetVersion, agents, sent, installed, failed, pending }) => ({
      targetVersion,
      agents,
      sent,
      installed,
      failed,
      pending,
    }));
    expect(counts).toEqual([
      { targetVersion: '1.0.03-0', agents: 2, sent: 2, installed: 0, failed: 1, pending: 1 },
      { targetVersion: '1.0.02-0', agents: 2, sent: 2, installed: 2, failed: 0, pending: 0 },
    ]);
    for (const x of rollouts) {
      expect(x.packageId).toMatch(/^\S+$/);
      expect(Number.isNaN(Date.parse(String(x.createdAt)))).toBe(false);
    }
  });

  it('text: a header and one row per rollout with the same counts', async () => {
    const r = await run(host, 0, 'rollouts');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]?.split(/\s{3,}/)).toEqual([
      'Rollout',
      'Package',
      'Target',
      'Created (UTC)',
      'Agents',
      'Sent',
      'Installed',
      'Failed',
      'Pending',
    ]);
    expect(lines).toHaveLength(3);
    const cells = lines.slice(1).map((l) => l.split(/\s{3,}/));
    expect(cells.map((c) => [c[0], c[2], ...c.slice(4)])).toEqual([
      [ids[1], '1.0.03-0', '2', '2', '0', '1', '1'],
      [ids[0], '1.0.02-0', '2', '2', '2', '0', '0'],
    ]);
    expect(cells[0]?.[3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  });

  it('on an agent: a usage error (exit 2) naming the role', async () => {
    const r = await run(a1, 2, 'rollouts');
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/rollouts/);
    expect(r.stderr).toMatch(/host/);
  });

  it('a host with no rollouts says so and exits 0', async () => {
    const empty = await initHost(tempDir('i10v-rollouts-empty-'));
    expect((await run(empty, 0, 'rollouts')).stdout.trim()).toBe('no rollouts yet (rds push-all records one)');
    expect(JSON.parse((await run(empty, 0, '--json', 'rollouts')).stdout)).toEqual({ rollouts: [] });
  });
});

describe('rds keys show', () => {
  const exported = async (node: { config: string }) =>
    (JSON.parse((await run(node, 0, '--json', 'keys', 'export')).stdout) as { fingerprint: string }).fingerprint;

  it('on the host: role, id and the fingerprint keys export gives', async () => {
    const fp = await exported(host);
    expect(fp).toMatch(/^[0-9A-F]{40}$/);
    expect(JSON.parse((await run(host, 0, '--json', 'keys', 'show')).stdout)).toEqual({ role: 'host', id: 'HOST', fingerprint: fp });
    const text = (await run(host, 0, 'keys', 'show')).stdout;
    expect(text).toMatch(/^role: +host$/m);
    expect(text).toMatch(/^id: +HOST$/m);
    expect(text).toMatch(new RegExp(`^key fingerprint: +${fp}$`, 'm'));
    expect(text).not.toContain('host key');
  });

  it("on an agent: its own fingerprint and the pinned host key's, as keys export prints them", async () => {
    const own = await exported(a1);
    const hostFp = await exported(host);
    expect(own).not.toBe(hostFp);
    const file = path.join(a1.dir, 'keys', 'host.asc');
    expect(JSON.parse((await run(a1, 0, '--json', 'keys', 'show')).stdout)).toEqual({
      role: 'agent',
      id: a1.id,
      fingerprint: own,
      hostKey: { fingerprint: hostFp, file },
    });
    const text = (await run(a1, 0, 'keys', 'show')).stdout;
    expect(text).toMatch(new RegExp(`^key fingerprint: +${own}$`, 'm'));
    expect(text).toMatch(new RegExp(`^host key \\(pinned\\): +${hostFp}$`, 'm'));
    expect(text).toContain(`host key file:     ${file}`);
  });

  it('an agent whose pinned host key file is gone: one line naming the file, exit 2', async () => {
    const file = path.join(a2.dir, 'keys', 'host.asc');
    fs.renameSync(file, `${file}.away`);
    try {
      const r = await run(a2, 2, 'keys', 'show');
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([`rds: cannot read key file ${file}: ENOENT`]);
    } finally {
      fs.renameSync(`${file}.away`, file);
    }
  });
});
