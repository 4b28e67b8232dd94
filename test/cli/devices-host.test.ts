// `devices add --kind host` through the real binary: a PC or server read through
// HOST-RESOURCES-MIB, with its fault thresholds; wrong thresholds are refused (exit 2, one
// line naming the option, nothing added); `devices discover` refuses more than a /16 before it sends anything.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentNode, ensureBuilt, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';

let root: string;
let A: AgentNode;

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-cli-hosts-');
  A = await initAgent(root, await initHost(root), { id: 'AGENTH', register: false });
}, 120_000);
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const devices = async () =>
  (
    JSON.parse((await rdsExpect(0, ['--json', '--config', A.config, 'devices', 'list'], { cwd: root })).stdout) as {
      devices: Array<{ id: string; config: Record<string, unknown> }>;
    }
  ).devices;

describe('devices add --kind host', () => {
  it('adds a host with its thresholds', async () => {
    await rdsExpect(
      0,
      ['--config', A.config, 'devices', 'add', '--id', 'pc1', '--kind', 'host', '--address', '192.0.2.30', '--disk-threshold', '85'],
      {
        cwd: root,
      },
    );
    expect((await devices()).find((d) => d.id === 'pc1')?.config).toMatchObject({ kind: 'host', thresholds: { diskPercent: 85 } });
  });

  it.each([
    ['a threshold for a printer', ['--disk-threshold', '80'], 'add --kind host'],
    ['a threshold over 100', ['--kind', 'host', '--memory-threshold', '150'], 'memory threshold'],
    ['a threshold that is no number', ['--kind', 'host', '--disk-threshold', 'full'], 'disk threshold'],
  ])('%s → exit 2, one line, nothing added', async (_what, extra, named) => {
    const r = await rds(['--json', '--config', A.config, 'devices', 'add', '--id', 'pc-bad', '--address', '192.0.2.31', ...extra], {
      cwd: root,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('DEVICE_CONFIG_INVALID');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(named);
    expect((await devices()).map((d) => d.id)).not.toContain('pc-bad');
  });
});

describe('devices discover refuses a target bigger than a /16', () => {
  it.each([
    ['10.0.0.0/8', 'is 16777216 addresses; at most a /16'],
    ['10.0.0.0-10.1.0.0', 'is 65537 addresses; at most a /16'],
    ['printers.example', 'is not an IPv4 address, CIDR block or range'],
  ])('%s → exit 2, one line saying why, nothing scanned', async (target, why) => {
    const r = await rds(['--json', '--config', A.config, 'devices', 'discover', target], { cwd: root });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('BAD_TARGET');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(why)]);
    expect(r.stderr).not.toContain('scanning');
  });

  it('a bad --port → exit 2 BAD_OPTION naming it, nothing scanned', async () => {
    const r = await rds(['--json', '--config', A.config, 'devices', 'discover', '127.0.0.1', '--port', '99999'], { cwd: root });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('BAD_OPTION');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining("--port '99999' is not a port")]);
  });
});
