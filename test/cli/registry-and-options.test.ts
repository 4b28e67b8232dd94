// Smaller holes of one kind, through the real binary: the host registry refuses a public key
// that another agent already holds (agents add, agents import: exit 2 naming that agent,
// nothing registered), and `devices add` refuses SNMPv3 options without --snmp-version 3
// (exit 2, nothing added) instead of adding a v2c device with community "public";
// `devices list` shows the SNMP version of each device.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';

let root: string;
let host: HostNode;
let A: AgentNode;
let spare: AgentNode;

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-cli-registry-');
  host = await initHost(root);
  A = await initAgent(root, host, { id: 'AGENTA' });
  spare = await initAgent(root, host, { id: 'SPARE', register: false });
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function registeredIds(of: HostNode = host): Promise<string[]> {
  const r = await rdsExpect(0, ['--json', '--config', of.config, 'agents', 'list'], { cwd: root });
  const data = JSON.parse(r.stdout) as { agents: { id: string }[] };
  return data.agents.map((a) => a.id);
}

describe('the host registry: one key, one agent', () => {
  it("agents add refuses AGENTA's key for another id, naming AGENTA (exit 2)", async () => {
    for (const json of [false, true]) {
      const args = ['--config', host.config, 'agents', 'add', '--id', 'IMPOSTOR', '--address', 'imp@example.com', '--key', A.publicKeyFile];
      const r = await rds(json ? ['--json', ...args] : args, { cwd: root });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain("agent 'AGENTA'");
      if (json) expect(JSON.parse(r.stdout).error.code).toBe('KEY_IN_USE');
    }
    expect(await registeredIds()).toEqual(['AGENTA']);
  });

  it("agents import refuses a row with AGENTA's key, naming AGENTA; nothing of the file is kept", async () => {
    const file = path.join(root, 'import-taken.csv');
    fs.writeFileSync(file, `id,address,key\nSPARE,spare@example.com,${spare.publicKeyFile}\nIMPOSTOR,imp@example.com,${A.publicKeyFile}\n`);
    const r = await rds(['--config', host.config, 'agents', 'import', file], { cwd: root });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("agent 'IMPOSTOR'");
    expect(r.stderr).toContain("agent 'AGENTA'");
    expect(await registeredIds()).toEqual(['AGENTA']);
  });

  it('agents import refuses two rows sharing one key, naming the earlier row', async () => {
    const file = path.join(root, 'import-twice.csv');
    fs.writeFileSync(
      file,
      `id,address,key\nSPARE,spare@example.com,${spare.publicKeyFile}\nSPARE2,spare2@example.com,${spare.publicKeyFile}\n`,
    );
    const r = await rds(['--json', '--config', host.config, 'agents', 'import', file], { cwd: root });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('KEY_IN_USE');
    expect(r.stderr).toContain("agent 'SPARE2'");
    expect(r.stderr).toContain("agent 'SPARE' earlier in the file");
    expect(await registeredIds()).toEqual(['AGENTA']);
  });

  it('control: the same file without the duplicate imports SPARE', async () => {
    // a host of its own: the refusals above keep asserting a registry of AGENTA alone
    const own = tempDir('rds-cli-registry-control-');
    try {
      const other = await initHost(own);
      const addA = ['--config', other.config, 'agents', 'add', '--id', 'AGENTA', '--address', 'a@example.com', '--key', A.publicKeyFile];
      await rdsExpect(0, addA, { cwd: own });
      const file = path.join(own, 'import-good.csv');
      fs.writeFileSync(file, `id,address,key\nSPARE,spare@example.com,${spare.publicKeyFile}\n`);
      await rdsExpect(0, ['--config', other.config, 'agents', 'import', file], { cwd: own });
      expect(await registeredIds(other)).toEqual(['AGENTA', 'SPARE']);
    } finally {
      fs.rmSync(own, { recursive: true, force: true });
    }
  });
});

const V3_CASES: [string, string[]][] = [
  ['--v3-user', ['--v3-user', 'rds']],
  ['--v3-auth-key', ['--v3-auth-key', 'authpass1']],
  ['--v3-priv-key', ['--v3-priv-key', 'privpass1']],
  ['--v3-level', ['--v3-level', 'authPriv']],
  ['--v3-auth-protocol', ['--v3-auth-protocol', 'sha256']],
  ['--v3-priv-protocol', ['--v3-priv-protocol', 'aes']],
  ['--v3-context', ['--v3-context', 'ctx']],
  ['--v3-user, --v3-auth-key with --snmp-version 2c', ['--snmp-version', '2c', '--v3-user', 'rds', '--v3-auth-key', 'authpass1']],
  ['--v3-user with --snmp-version 1', ['--snmp-version', '1', '--v3-user', 'rds']],
];

async function deviceIds(): Promise<string[]> {
  const r = await rdsExpect(0, ['--json', '--config', A.config, 'devices', 'list'], { cwd: root });
  return (JSON.parse(r.stdout) as { devices: { id: string }[] }).devices.map((d) => d.id);
}

describe('devices add: SNMPv3 options need --snmp-version 3', () => {
  it.each(V3_CASES)('%s without --snmp-version 3 → exit 2, nothing added', async (named, options) => {
    const r = await rds(['--json', '--config', A.config, 'devices', 'add', '--id', 'mfp-x', '--address', '192.0.2.10', ...options], {
      cwd: root,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('BAD_OPTION');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    for (const flag of named.split(' with ')[0]?.split(', ') ?? []) expect(r.stderr).toContain(flag);
    expect(r.stderr).toContain('--snmp-version 3');
    expect(r.stderr).not.toMatch(/authpass1|privpass1/);
    expect(await deviceIds()).toEqual([]);
  });

  it('devices list shows the SNMP version of each device (v1, v2c, v3 with its level)', async () => {
    // an agent of its own: the refusals above assert that A has no devices
    const B = await initAgent(root, host, { id: 'AGENTB', register: false });
    const add = (...args: string[]) => rdsExpect(0, ['--config', B.config, 'devices', 'add', ...args], { cwd: root });
    await add('--id', 'mfp-v1', '--address', '192.0.2.11', '--snmp-version', '1', '--community', 'c1');
    await add('--id', 'mfp-v2', '--address', '192.0.2.12');
    await add(
      '--id',
      'mfp-v3',
      '--address',
      '192.0.2.13:1161',
      '--snmp-version',
      '3',
      '--v3-user',
      'rds',
      '--v3-auth-key',
      'authpass1',
      '--v3-priv-key',
      'privpass1',
    );
    const r = await rdsExpect(0, ['--config', B.config, 'devices', 'list'], { cwd: root });
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.trim().split(/\s{2,}/));
    expect(rows[0]).toEqual(['Device', 'Driver', 'Where', 'SNMP']);
    expect(rows.slice(1).filter((cells) => cells.length === 4)).toEqual([
      ['mfp-v1', 'snmp', '192.0.2.11', 'v1'],
      ['mfp-v2', 'snmp', '192.0.2.12', 'v2c'],
      ['mfp-v3', 'snmp', '192.0.2.13:1161', 'v3 authPriv'],
    ]);
    expect(r.stdout).not.toMatch(/authpass1|privpass1|c1\b/);
  });
});
