// Issue 10 part 2: the agent's side of a failure reaches the host. An agent whose install
// script fails sends the tail of its install log with the update result; the host stores it
// (bounded) and shows it in `verify` (last line), `verify --json` (logTail) and
// `rds agents show ID` (reason and the log's last lines, each control escaped).
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';

let root: string;
let host: HostNode;
let good: AgentNode;
let bad: AgentNode;
let rolloutId: string;

const run = (node: { config: string }, expected: number, ...args: string[]) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root });

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('i10s-failure-');
  host = await initHost(root);
  good = await initAgent(root, host, { id: 'AGENT0000001' });
  bad = await initAgent(root, host, { id: 'AGENT0000002' });
  // 60 lines of noise, then the cause; the failing agent is told apart by a marker file
  const script = path.join(root, 'install.sh');
  fs.writeFileSync(
    script,
    [
      '#!/bin/sh',
      'if [ -e "$RDS_INSTALL_ROOT/fail-install" ]; then',
      '  i=0; while [ $i -lt 60 ]; do echo "copying file $i"; i=$((i+1)); done',
      `  printf 'cp: write error: \\033[31mNo space left on device\\n' >&2`,
      '  exit 1',
      'fi',
      'cp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  fs.writeFileSync(path.join(bad.installRoot, 'fail-install'), '');
  const module = path.join(root, 'main.cgi');
  fs.writeFileSync(module, 'main 1.0.02\n');
  const pkg = path.join(root, 'up.rdsu');
  await run(
    host,
    0,
    'pack-update',
    '--software-version',
    '1.0.02-0',
    '--script',
    script,
    '--module',
    `main.cgi=1.0.02:${module}`,
    '-o',
    pkg,
  );
  rolloutId = (JSON.parse((await run(host, 0, '--json', 'push-all', pkg)).stdout) as { rolloutId: string }).rolloutId;
  await run(good, 0, 'poll-mail');
  // README's table: an install that rolled back is exit 1 ("done, but something failed")
  const polled = await rds(['--config', bad.config, 'poll-mail'], { cwd: root });
  expect(polled.code, polled.stderr).toBe(1);
  expect(polled.stdout).toMatch(/rolled-back/);
  await run(host, 0, 'inbox');
}, 120_000);

describe('verify shows the agent side of a failure', () => {
  it('--json: detail and logTail (the last 40 lines, the cause last, exact text)', async () => {
    const r = await run(host, 1, '--json', 'verify', '--no-inbox');
    const out = JSON.parse(r.stdout) as { agents: { agentId: string; reason: string; detail: string | null; logTail: string | null }[] };
    const failed = out.agents.find((a) => a.agentId === bad.id);
    expect(failed?.reason).toBe('rolled-back');
    expect(failed?.detail).toBe('install script exited with status 1');
    const lines = failed?.logTail?.split('\n') ?? [];
    expect(lines).toHaveLength(40);
    expect(lines[39]).toBe('cp: write error: \u001b[31mNo space left on device');
    expect(lines[0]).toBe('copying file 21');
    const ok = out.agents.find((a) => a.agentId === good.id);
    expect(ok?.detail).toBeNull();
    expect(ok?.reason).toBeNull();
  });

  it('text: the table and summary lines stay, then one line per failed agent with its last log line, escaped', async () => {
    const r = await run(host, 1, 'verify', '--no-inbox');
    expect(r.stdout).toMatch(/^update to: 1\.0\.02-0$/m);
    expect(r.stdout).toMatch(/^1 of 2 agents failed$/m);
    expect(r.stdout.match(/✗/g)).toHaveLength(1);
    expect(r.stdout).toContain(
      'AGENT0000002: install script exited with status 1 (log: cp: write error: \\x1b[31mNo space left on device)',
    );
    expect(r.stdout).not.toContain('\u001b');
  });
});

describe('rds agents show', () => {
  it('text: registry data, versions, the rollout with reason and log tail (escaped, indented), no raw control', async () => {
    const r = await run(host, 0, 'agents', 'show', bad.id);
    const fp = (JSON.parse((await run(bad, 0, '--json', 'keys', 'show')).stdout) as { fingerprint: string }).fingerprint;
    expect(r.stdout).toMatch(/^agent: +AGENT0000002$/m);
    expect(r.stdout).toMatch(new RegExp(`^key fingerprint: +${fp}$`, 'm'));
    expect(r.stdout).toMatch(/^last seen: +\d{4}-\d\d-\d\d \d\d:\d\d$/m);
    expect(r.stdout).toContain(`${rolloutId}   target 1.0.02-0`);
    expect(r.stdout).toMatch(/rolled-back 1\.0\.00-1$/m);
    expect(r.stdout).toContain('    reason: install script exited with status 1');
    expect(r.stdout).toContain('    | cp: write error: \\x1b[31mNo space left on device');
    expect(r.stdout).toContain('    | copying file 59');
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toMatch(/^Open faults:\n {2}none$/m);
  });

  it('--json: exact data', async () => {
    const v = JSON.parse((await run(host, 0, '--json', 'agents', 'show', bad.id)).stdout);
    expect(v).toMatchObject({ id: bad.id, address: 'agent0000002@example.com', note: '', version: '1.0.00-1', openFaults: [] });
    expect(v.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(v.versions[0]).toMatchObject({ kind: 'update-result', softwareVersion: '1.0.00-1' });
    expect(v.rollouts).toHaveLength(1);
    expect(v.rollouts[0]).toMatchObject({
      rolloutId,
      targetVersion: '1.0.02-0',
      status: 'sent',
      result: 'rolled-back',
      detail: 'install script exited with status 1',
      logTailNote: null,
    });
    expect(v.rollouts[0].logTail.endsWith('\u001b[31mNo space left on device')).toBe(true);
    const okView = JSON.parse((await run(host, 0, '--json', 'agents', 'show', good.id)).stdout);
    expect(okView.rollouts[0]).toMatchObject({ result: 'installed', resultVersion: '1.0.02-0' });
  });

  it('an unknown id: one line naming it and where ids are listed, exit 2', async () => {
    const r = await run(host, 2, 'agents', 'show', 'NOSUCH');
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(["rds: no agent 'NOSUCH' in the registry (rds agents list shows the ids)"]);
  });

  it('--json with an unknown id: the error as JSON, exit 2', async () => {
    const r = await run(host, 2, '--json', 'agents', 'show', 'NOSUCH');
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'UNKNOWN_AGENT', message: "no agent 'NOSUCH' in the registry (rds agents list shows the ids)" },
    });
  });
});
