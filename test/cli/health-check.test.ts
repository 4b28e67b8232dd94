// Issue 12, the health check (docs/install.md#health-check), with the real binary in temp
// dirs on the embedded Maildir backend: `pack-update --health-check FILE`, `push-all`, then
// each agent's `poll-mail`. A failing health check switches back: the old release is current
// again, the installed version is unchanged, and the update-result the agent signed says
// `rolled-back` with reasonCode HEALTH_CHECK_FAILED and the log's last lines.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpdateResultBody } from '../../src/core/protocol/update-result.js';
import { sentPayloads } from '../support/agent-outbox.js';
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
  tempDir,
  wrapForAgent,
  writeScript,
} from '../support/cli.js';

let root: string;
let host: HostNode;
let healthy: AgentNode;
let sick: AgentNode;
let pkg: string;
let sickPoll: { code: number | null; stdout: string };

const run = (node: { config: string }, expected: number, ...args: string[]) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root });

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('s22-health-cli-');
  host = await initHost(root);
  healthy = await initAgent(root, host, { id: 'AGENT0000001' });
  sick = await initAgent(root, host, { id: 'AGENT0000002' });
  const install = writeScript(path.join(root, 'install.sh'), 'cp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"\necho "copied"');
  // the check runs with the new release current; the sick agent is told apart by a marker file
  const check = writeScript(
    path.join(root, 'check.sh'),
    [
      'if [ -e "$RDS_INSTALL_ROOT/fail-health" ]; then echo "main.cgi did not answer on :8080" >&2; exit 3; fi',
      'test "$(cat "$RDS_INSTALL_ROOT/current/main.cgi")" = "main 1.0.02"',
      'echo "main.cgi answers"',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(sick.installRoot, 'fail-health'), '');
  const module = path.join(root, 'main.cgi');
  fs.writeFileSync(module, 'main 1.0.02');
  pkg = path.join(root, 'up.rdsu');
  // biome-ignore format: one flag and its value per line
  await run(host, 0, 'pack-update',
    '--software-version', '1.0.02-0',
    '--script', install,
    '--health-check', check,
    '--module', `main.cgi=1.0.02:${module}`,
    '-o', pkg,
  );
  await run(host, 0, 'push-all', pkg);
  await run(healthy, 0, 'poll-mail');
  sickPoll = await rds(['--config', sick.config, 'poll-mail'], { cwd: root });
}, 120_000);

async function updateResult(agent: AgentNode): Promise<UpdateResultBody> {
  const results = await sentPayloads<UpdateResultBody>(agent, 'update-result');
  expect(results).toHaveLength(1);
  return (results[0] as { body: UpdateResultBody }).body;
}

describe('a passing health check', () => {
  it('installs: the new release is current, the version recorded, the result installed with the check in the log tail', async () => {
    expect(releaseVersion(currentRelease(healthy))).toBe('1.0.02-0');
    expect((await run(healthy, 0, 'versions')).stdout).toMatch(/^Software Version\t1\.0\.02-0$/m);
    const body = await updateResult(healthy);
    expect(body).toMatchObject({ outcome: 'installed', softwareVersion: '1.0.02-0' });
    expect(body.reasonCode).toBeUndefined();
    expect(body.logTail).toBe('copied\nrds: health check (health-check.sh) of 1.0.02-0\nmain.cgi answers');
  });
});

describe('a failing health check', () => {
  it('the poll-mail pass that took the update in exits 1 (done, but the install failed)', () => {
    expect(sickPoll.code).toBe(1);
    expect(sickPoll.stdout).toMatch(/^update \S+: rolled-back$/m);
  });

  it('switches back: the old release is current again, the new one removed, the installed version unchanged', async () => {
    expect(currentRelease(sick)).toBe('1.0.00-1');
    expect(fs.readdirSync(path.join(sick.installRoot, 'releases'))).toEqual(['1.0.00-1']);
    expect((await run(sick, 0, 'versions')).stdout).toMatch(/^Software Version\t1\.0\.00-1$/m);
  });

  it('the update-result says so: rolled-back, HEALTH_CHECK_FAILED, the reason and the log tail', async () => {
    const body = await updateResult(sick);
    expect(body).toMatchObject({
      outcome: 'rolled-back',
      softwareVersion: '1.0.00-1',
      reason: 'health check exited with status 3',
      reasonCode: 'HEALTH_CHECK_FAILED',
    });
    expect(body.logTail?.split('\n').at(-1)).toBe('main.cgi did not answer on :8080');
  });

  it('rds apply-update FILE: exit 1, a line naming the health check, still on the old version', async () => {
    const local = await initAgent(root, host, { id: 'AGENT0000003' });
    fs.writeFileSync(path.join(local.installRoot, 'fail-health'), '');
    const file = await wrapForAgent(host, pkg, local.publicKeyFile);
    const r = await rds(['--config', local.config, 'apply-update', file], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').find((l) => l.startsWith('rds: '))).toBe(
      'rds: health check exited with status 3; rolled back, still on 1.0.00-1',
    );
    expect(r.stderr).toContain('main.cgi did not answer on :8080');
    expect(currentRelease(local)).toBe('1.0.00-1');
    const json = await rds(['--config', local.config, '--json', 'apply-update', file], { cwd: root });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'HEALTH_CHECK_FAILED' } });
  });
});

describe('kill -9 around the health check (the real binary, test/support/rds-crash-after.mjs)', () => {
  it.each([
    ['health-check', '1.0.00-1'],
    ['healthy', '1.0.02-0'],
  ])("killed right after '%s' was journaled: the next `rds versions` ends on %s, current agreeing", async (step, after) => {
    const agent = await initAgent(root, host, { id: `AGENT00CRASH${step === 'healthy' ? 'B' : 'A'}` });
    const file = await wrapForAgent(host, pkg, agent.publicKeyFile);
    const crashed = await rds(['--config', agent.config, 'apply-update', file], { cwd: root, env: { RDS_FAULT_CRASH_AFTER: step } });
    expect(crashed.signal, `${crashed.code}\n${crashed.stderr}`).toBe('SIGKILL');
    expect(releaseVersion(currentRelease(agent))).toBe('1.0.02-0'); // the switch was done
    expect((await run(agent, 0, 'versions')).stdout).toMatch(new RegExp(`^Software Version\t${after.replaceAll('.', '\\.')}$`, 'm'));
    expect(releaseVersion(currentRelease(agent))).toBe(after);
    expect(fs.readdirSync(path.join(agent.installRoot, 'releases')).map(releaseVersion)).toContain(after);
  });
});

describe('pack-update --health-check', () => {
  it('a health check that is not a file: exit 2, one line naming the flag and the path', async () => {
    const missing = path.join(root, 'no-such-check.sh');
    const r = await rds(
      ['--config', host.config, 'pack-update', '--software-version', '1.0.03-0', '--script', pkg, '--health-check', missing],
      { cwd: root },
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`rds: --health-check ${missing} is not a file`);
  });
});
