// Issue 12, the install window (docs/install.md#install-window), with the real binary in temp
// dirs on the embedded Maildir backend. The agent's local time is driven by its TZ: each run
// names a fixed-offset zone (Etc/GMT…) chosen so that the real clock reads, in that zone,
// mid-day (the window "22:00-06:00" is closed for hours) or 02:xx (open). An update arriving
// outside the window is verified and staged at once and answered `deferred` with the
// window's start; the first poll-mail pass inside the window installs it, mail or not.
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
  modeOf,
  rds,
  rdsExpect,
  releaseVersion,
  tempDir,
  writeScript,
} from '../support/cli.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A fixed-offset zone in which the local hour is `hour` now, and its offset in hours. */
function zoneWhereHourIs(hour: number): { tz: string; offset: number } {
  let offset = (hour - new Date().getUTCHours() + 24) % 24;
  if (offset > 12) offset -= 24; // Etc/GMT zones run from UTC-12 to UTC+14
  const tz = offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`; // POSIX sign: Etc/GMT-5 is UTC+5
  return { tz, offset };
}

/** The instant the local clock of a zone `offset` hours from UTC next reads 22:00, from mid-day. */
function tonightAt22(offset: number): string {
  const local = Date.now() + offset * HOUR;
  return new Date(Math.floor(local / DAY) * DAY + 22 * HOUR - offset * HOUR).toISOString();
}

const closed = zoneWhereHourIs(12); // 12:xx local: closed until 22:00
const open = zoneWhereHourIs(2); // 02:xx local: open until 06:00

let root: string;
let host: HostNode;
let agent: AgentNode;
let v2: string;
let v3: string;

const run = (node: { config: string }, expected: number, args: string[], tz = closed.tz) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root, env: { TZ: tz } });

async function pack(version: string): Promise<string> {
  const module = path.join(root, `main-${version}.cgi`);
  fs.writeFileSync(module, `main ${version}`);
  const file = path.join(root, `up-${version}.rdsu`);
  const install = writeScript(path.join(root, 'install.sh'), 'cp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"');
  // biome-ignore format: one flag and its value per line
  await run(host, 0, ['pack-update',
    '--software-version', version,
    '--script', install,
    '--module', `main.cgi=${version.slice(0, 6)}:${module}`,
    '-o', file,
  ]);
  return file;
}

async function push(file: string, to: AgentNode): Promise<string> {
  const r = await run(host, 0, ['--json', 'push-all', file, '--agents', to.id]);
  return (JSON.parse(r.stdout) as { rolloutId: string }).rolloutId;
}

const results = async (a: AgentNode) => (await sentPayloads<UpdateResultBody>(a, 'update-result')).map((p) => p.body);
const stagedFiles = (a: AgentNode) => {
  const dir = path.join(a.stateDir, 'staged');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};
const version = async (a: AgentNode) => /^Software Version\t(\S+)$/m.exec((await run(a, 0, ['versions'])).stdout)?.[1];

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('s22-window-cli-');
  host = await initHost(root);
  agent = await initAgent(root, host, { id: 'AGENT0000001', initArgs: ['--install-window', '22:00-06:00'] });
  v2 = await pack('1.0.02-0');
  v3 = await pack('1.0.03-0');
}, 120_000);

describe('an update outside the window is deferred, then installed when the window opens', () => {
  let rollout2: string;
  let rollout3: string;

  it('rds init --install-window wrote the window into the agent config', () => {
    const config = JSON.parse(fs.readFileSync(agent.config, 'utf8')) as { installWindow?: string };
    expect(config.installWindow).toBe('22:00-06:00');
  });

  it('outside: verified and staged (0600 under a 0700 folder), answered deferred until 22:00 local; nothing installed', async () => {
    rollout2 = await push(v2, agent);
    const polled = await run(agent, 0, ['poll-mail']);
    expect(polled.stdout).toMatch(/^update \S+: deferred$/m);
    expect(await version(agent)).toBe('1.0.00-1');
    expect(currentRelease(agent)).toBe('1.0.00-1');
    const [file] = stagedFiles(agent);
    expect(stagedFiles(agent)).toHaveLength(1);
    expect(modeOf(path.join(agent.stateDir, 'staged', file as string))).toBe(0o600);
    expect(modeOf(path.join(agent.stateDir, 'staged'))).toBe(0o700);
    expect(await results(agent)).toEqual([
      expect.objectContaining({
        rolloutId: rollout2,
        outcome: 'deferred',
        softwareVersion: '1.0.00-1',
        deferredUntil: tonightAt22(closed.offset),
      }),
    ]);
  });

  it('a later pass still outside the window leaves it staged (a new process: the stage survived); doctor shows it', async () => {
    const polled = await run(agent, 0, ['poll-mail']);
    expect(polled.stdout).toBe('no mail\n');
    expect(stagedFiles(agent)).toHaveLength(1);
    expect(await version(agent)).toBe('1.0.00-1');
    const doctor = await run(agent, 0, ['--json', 'doctor']);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; detail: string }[] }).checks;
    expect(checks.find((c) => c.name === 'install window')?.detail).toMatch(
      new RegExp(
        `^22:00-06:00 local time: closed, opens ${tonightAt22(closed.offset)}; update 1\\.0\\.02-0 \\(package [0-9a-f-]{36}\\) is staged: `,
      ),
    );
  });

  it('the same package again is not staged twice: one staged file, the new rollout answered deferred', async () => {
    const again = await push(v2, agent);
    await run(agent, 0, ['poll-mail']);
    expect(stagedFiles(agent)).toHaveLength(1);
    expect((await results(agent)).at(-1)).toMatchObject({ rolloutId: again, outcome: 'deferred' });
    rollout2 = again;
  });

  it('a newer package replaces the staged one; the replaced rollout hears UPDATE_SUPERSEDED', async () => {
    const before = stagedFiles(agent);
    rollout3 = await push(v3, agent);
    await run(agent, 0, ['poll-mail']);
    expect(stagedFiles(agent)).toHaveLength(1);
    expect(stagedFiles(agent)).not.toEqual(before);
    const sent = await results(agent);
    expect(sent.find((b) => b.rolloutId === rollout2 && b.outcome === 'refused')).toMatchObject({ reasonCode: 'UPDATE_SUPERSEDED' });
    expect(sent.at(-1)).toMatchObject({ rolloutId: rollout3, outcome: 'deferred', deferredUntil: tonightAt22(closed.offset) });
  });

  it('inside the window the next pass installs it without any mail: the same update-result as on arrival', async () => {
    const polled = await run(agent, 0, ['poll-mail'], open.tz);
    expect(polled.stdout).toMatch(/^staged update \S+: installed$/m);
    expect(await version(agent)).toBe('1.0.03-0');
    expect(releaseVersion(currentRelease(agent))).toBe('1.0.03-0');
    expect(stagedFiles(agent)).toEqual([]);
    expect((await results(agent)).at(-1)).toMatchObject({ rolloutId: rollout3, outcome: 'installed', softwareVersion: '1.0.03-0' });
    expect((await run(agent, 0, ['poll-mail'], open.tz)).stdout).toBe('no mail\n');
  });

  it('inside the window an update installs on arrival, as without a window', async () => {
    const v4 = await pack('1.0.04-0');
    const rollout4 = await push(v4, agent);
    const polled = await run(agent, 0, ['poll-mail'], open.tz);
    expect(polled.stdout).toMatch(/^update \S+: installed$/m);
    expect(stagedFiles(agent)).toEqual([]);
    expect((await results(agent)).at(-1)).toMatchObject({ rolloutId: rollout4, outcome: 'installed', softwareVersion: '1.0.04-0' });
  });
});

describe('the staged install is the apply path: rollback, health check, crash recovery', () => {
  it('a staged update whose health check fails: the pass inside the window exits 1, HEALTH_CHECK_FAILED to its rollout', async () => {
    const sick = await initAgent(root, host, { id: 'AGENT0000005', initArgs: ['--install-window', '22:00-06:00'] });
    const check = writeScript(path.join(root, 'check.sh'), 'echo "main.cgi did not answer" >&2\nexit 3');
    const install = writeScript(path.join(root, 'install.sh'), 'cp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"');
    const module = path.join(root, 'main-checked.cgi');
    fs.writeFileSync(module, 'main checked');
    const file = path.join(root, 'up-checked.rdsu');
    // biome-ignore format: one flag and its value per line
    await run(host, 0, ['pack-update', '--software-version', '1.0.02-1', '--script', install, '--health-check', check,
      '--module', `main.cgi=1.0.02:${module}`, '-o', file]);
    const rollout = await push(file, sick);
    expect((await run(sick, 0, ['poll-mail'])).stdout).toMatch(/^update \S+: deferred$/m);
    const polled = await rds(['--config', sick.config, 'poll-mail'], { cwd: root, env: { TZ: open.tz } });
    expect(polled.code).toBe(1);
    expect(polled.stdout).toMatch(/^staged update \S+: rolled-back$/m);
    expect(currentRelease(sick)).toBe('1.0.00-1');
    expect(stagedFiles(sick)).toEqual([]);
    expect((await results(sick)).at(-1)).toMatchObject({
      rolloutId: rollout,
      outcome: 'rolled-back',
      reasonCode: 'HEALTH_CHECK_FAILED',
      softwareVersion: '1.0.00-1',
    });
  });

  it('kill -9 while the staged update installs: it stays staged, and the next pass inside the window ends installed', async () => {
    const a = await initAgent(root, host, { id: 'AGENT0000006', initArgs: ['--install-window', '22:00-06:00'] });
    const rollout = await push(v2, a);
    await run(a, 0, ['poll-mail']);
    const crashed = await rds(['--config', a.config, 'poll-mail'], {
      cwd: root,
      env: { TZ: open.tz, RDS_FAULT_CRASH_AFTER: 'running-script' },
    });
    expect(crashed.signal).toBe('SIGKILL');
    expect(stagedFiles(a)).toHaveLength(1);
    const polled = await run(a, 0, ['poll-mail'], open.tz);
    expect(polled.stdout).toMatch(/^staged update \S+: installed$/m);
    expect(await version(a)).toBe('1.0.02-0');
    expect(releaseVersion(currentRelease(a))).toBe('1.0.02-0');
    expect(stagedFiles(a)).toEqual([]);
    expect((await results(a)).at(-1)).toMatchObject({ rolloutId: rollout, outcome: 'installed', softwareVersion: '1.0.02-0' });
  });
});

describe('a refused package is never staged', () => {
  it('a downgrade outside the window: exit 4, DOWNGRADE_REFUSED told to the host, nothing staged', async () => {
    const newer = await initAgent(root, host, {
      id: 'AGENT0000002',
      softwareVersion: '1.0.05-0',
      initArgs: ['--install-window', '22:00-06:00'],
    });
    const rollout = await push(v2, newer);
    const polled = await rds(['--config', newer.config, 'poll-mail'], { cwd: root, env: { TZ: closed.tz } });
    expect(polled.code).toBe(4);
    expect(polled.stdout).toMatch(/^quarantined DOWNGRADE_REFUSED: /m);
    expect(stagedFiles(newer)).toEqual([]);
    expect(await results(newer)).toEqual([
      expect.objectContaining({ rolloutId: rollout, outcome: 'refused', reasonCode: 'DOWNGRADE_REFUSED' }),
    ]);
  });
});

describe('a bad window is a config error naming the key and the value', () => {
  it('in the config: exit 2, one line', async () => {
    const bad = await initAgent(root, host, { id: 'AGENT0000003', register: false });
    const config = JSON.parse(fs.readFileSync(bad.config, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(bad.config, JSON.stringify({ ...config, installWindow: '22:00-6:00' }), { mode: 0o600 });
    const r = await rds(['--config', bad.config, 'versions'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `rds: config ${bad.config}: installWindow "22:00-6:00" is not HH:MM-HH:MM; expected HH:MM-HH:MM in 24-hour local time, e.g. "22:00-06:00"\n`,
    );
  });

  it('rds init --install-window 24:00-06:00: exit 2, one line naming the flag, nothing written', async () => {
    const dir = path.join(root, 'AGENT0000004');
    // biome-ignore format: one flag and its value per line
    const r = await rds(['init', '--role', 'agent', '--id', 'AGENT0000004', '--address', 'a4@example.com',
      '--host-address', 'host@example.com', '--host-key', host.publicKeyFile,
      '--smtp', `maildir://${path.join(root, 'mail')}`, '--inbox', `maildir://${path.join(root, 'mail')}`,
      '--install-window', '24:00-06:00', '--dir', dir,
    ], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'rds: --install-window "24:00-06:00" has an hour over 23 (24); expected HH:MM-HH:MM in 24-hour local time, e.g. "22:00-06:00"\n',
    );
    expect(fs.existsSync(path.join(dir, 'config.json'))).toBe(false);
  });
});
