// `rds doctor` on the embedded maildir:// backend (issue 10 part 3): every check one line,
// ok or FAIL with the fix; exit 0 only when all pass, 1 when one fails, 2 when the config
// cannot be read. Mail servers and devices on real servers: test/e2e/doctor.test.ts.
import { createSocket } from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';

interface Doctor {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
}

let root: string;
let host: HostNode;
let agent: AgentNode;

const doctor = async (config: string, expected: number, env: Record<string, string> = {}) =>
  JSON.parse((await rdsExpect(expected, ['--config', config, '--json', 'doctor'], { cwd: root, env })).stdout) as Doctor;
const failing = (d: Doctor) => d.checks.filter((c) => !c.ok);

/** Change a file's mode for one test, then put it back. */
async function withMode(file: string, mode: number, fn: () => Promise<void>): Promise<void> {
  const before = fs.statSync(file).mode & 0o777;
  fs.chmodSync(file, mode);
  try {
    await fn();
  } finally {
    fs.chmodSync(file, before);
  }
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('i10s-doctor-');
  host = await initHost(root);
  agent = await initAgent(root, host, { id: 'AGENT0000001' });
}, 120_000);

describe('rds doctor', () => {
  it('a fresh host: every check ok, one line each, exit 0', async () => {
    const d = await doctor(host.config, 0);
    expect(d.ok).toBe(true);
    expect(d.checks.map((c) => c.name)).toEqual([
      'config',
      'file config',
      'file private key',
      'file state dir',
      'file Maildir root',
      'state dir',
      'state database',
      'key',
      'smtp',
      'imap',
    ]);
    const r = await rdsExpect(0, ['--config', host.config, 'doctor'], { cwd: root });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(d.checks.length + 1);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^ok {4}\S/);
    expect(lines.at(-1)).toBe(`all ${d.checks.length} checks passed`);
  });

  it('a fresh agent: the pinned host key with its fingerprint, no devices yet, exit 0', async () => {
    const d = await doctor(agent.config, 0);
    const hostFp = JSON.parse((await rdsExpect(0, ['--config', host.config, '--json', 'keys', 'show'], { cwd: root })).stdout).fingerprint;
    expect(d.checks.find((c) => c.name === 'host key')?.detail).toContain(`fingerprint ${hostFp}`);
    expect(d.checks.find((c) => c.name === 'devices')).toMatchObject({ ok: true, detail: 'none configured yet (rds devices add)' });
  });

  it('a config writable by the group: FAIL with chmod go-w, exit 1', async () => {
    await withMode(host.config, 0o620, async () => {
      const bad = failing(await doctor(host.config, 1));
      expect(bad).toEqual([
        {
          name: 'file config',
          ok: false,
          detail: `config ${host.config} is mode 0620 (its group may change it)`,
          fix: `chmod go-w ${host.config}`,
        },
      ]);
    });
  });

  it('a private key readable by others: FAIL with chmod 600, exit 1', async () => {
    await withMode(host.keyFile, 0o644, async () => {
      const bad = failing(await doctor(host.config, 1));
      expect(bad.map((c) => [c.name, c.fix])).toEqual([['file private key', `chmod 600 ${host.keyFile}`]]);
    });
  });

  it('a state dir gone: FAIL naming it and the fix, exit 1', async () => {
    const state = path.join(host.dir, 'state');
    fs.renameSync(state, `${state}.away`);
    try {
      const d = await doctor(host.config, 1);
      const bad = failing(d);
      // a missing state dir is no trust problem (rds creates it): only the writability check fails
      expect(bad.map((c) => c.name)).toEqual(['state dir']);
      expect(bad[0]?.fix).toBe(`mkdir -m 700 ${state} (rds init makes it)`);
      expect(fs.existsSync(state)).toBe(false); // doctor looks, it does not make things
    } finally {
      fs.renameSync(`${state}.away`, state);
    }
  });

  it("a protected key without its passphrase, and with a wrong one: FAIL 'key' with the fix, exit 1", async () => {
    const dir = tempDir('i10s-doctor-pw-');
    const mail = `maildir://${path.join(dir, 'mail')}`;
    await rdsExpect(
      0,
      ['init', '--role', 'host', '--id', 'HOST', '--address', 'h@example.com', '--smtp', mail, '--imap', mail, '--dir', dir],
      {
        cwd: dir,
        env: { RDS_KEY_PASSPHRASE: 'right' },
      },
    );
    const config = path.join(dir, 'config.json');
    const none = failing(await doctor(config, 1));
    expect(none.map((c) => c.name)).toEqual(['key']);
    expect(none[0]?.detail).toMatch(/is protected: set RDS_KEY_PASSPHRASE or keyPassphraseFile$/);
    const wrong = failing(await doctor(config, 1, { RDS_KEY_PASSPHRASE: 'wrong' }));
    expect(wrong[0]?.detail).toMatch(/the passphrase does not unlock this key$/);
    expect(failing(await doctor(config, 0, { RDS_KEY_PASSPHRASE: 'right' }))).toEqual([]);
  });

  it("an agent whose pinned host key is its own: FAIL 'host key', exit 1", async () => {
    const pinned = path.join(agent.dir, 'keys', 'host.asc');
    const saved = fs.readFileSync(pinned);
    fs.copyFileSync(path.join(agent.dir, 'keys', 'public.asc'), pinned);
    try {
      const bad = failing(await doctor(agent.config, 1));
      expect(bad.map((c) => [c.name, c.fix])).toEqual([['host key', "pin the host's key instead"]]);
    } finally {
      fs.writeFileSync(pinned, saved);
    }
  });

  it('an agent with a device that does not answer: FAIL for that device, exit 1', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    const { port } = s.address(); // bound, never answering
    try {
      await rdsExpect(0, ['--config', agent.config, 'devices', 'add', '--id', 'mute', '--address', `127.0.0.1:${port}`], { cwd: root });
      const bad = failing(await doctor(agent.config, 1));
      expect(bad.map((c) => c.name)).toEqual(['device mute']);
      expect(bad[0]?.detail).toContain(`127.0.0.1:${port}`);
    } finally {
      s.close();
      await rdsExpect(0, ['--config', agent.config, 'devices', 'remove', 'mute'], { cwd: root });
    }
  });

  it('a tlsCa that is gone: its file line and both mail checks FAIL naming it, no crash, exit 1', async () => {
    const json = JSON.parse(fs.readFileSync(host.config, 'utf8'));
    const ca = path.join(root, 'gone-ca.pem');
    const config = path.join(host.dir, 'gone-ca.json');
    fs.writeFileSync(config, JSON.stringify({ ...json, tlsCa: ca }), { mode: 0o600 });
    const bad = failing(await doctor(config, 1));
    expect(bad.map((c) => c.name)).toEqual(['file TLS CA file', 'smtp', 'imap']);
    expect(bad[1]).toMatchObject({
      detail: `TLS CA ${ca} cannot be read (ENOENT)`,
      fix: 'fix tlsCa in the config, or restore the CA file',
    });
  });

  it('no config, or one that is not JSON: one line, exit 2', async () => {
    const missing = path.join(root, 'nosuch.json');
    const r = await rds(['--config', missing, 'doctor'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(missing);
    const garbage = path.join(root, 'garbage.json');
    fs.writeFileSync(garbage, '{not json', { mode: 0o600 });
    const g = await rds(['--config', garbage, 'doctor'], { cwd: root });
    expect(g.code).toBe(2);
    expect(g.stderr.trim().split('\n')).toHaveLength(1);
    expect(g.stderr).not.toMatch(/this is a bug|at .*\.js:\d+/);
  });
});
