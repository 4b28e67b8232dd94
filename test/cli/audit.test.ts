// The audit trail through the real binary (docs/audit.md): every fleet action leaves exactly
// one entry; an agent records its installs and rollbacks; the stored log tampered directly in
// SQLite (edit, delete, reorder, truncate, a forged checkpoint) makes `rds audit verify` exit 4
// naming the entry; an export verifies in a fresh folder with the public keys alone.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropMail, rawMail } from '../hostile/helpers.js';
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

let root: string;
let host: HostNode;
let A: AgentNode;
let B: AgentNode;
let pkg: string;

const opts = () => ({ cwd: root });
const hostDb = () => path.join(host.dir, 'state', 'state.db');

interface Entry {
  seq: number;
  action: string;
  agents: string[];
  package?: string;
  status?: number;
  detail: Record<string, string | number>;
}

async function entries(config = host.config): Promise<Entry[]> {
  const r = await rdsExpect(0, ['--json', '--config', config, 'audit', 'list'], opts());
  return (JSON.parse(r.stdout) as { entries: Entry[] }).entries;
}

/** Run `rds ARGS` at the host (exit `code`) and return the entries it added. */
async function added(code: number, args: string[]): Promise<Entry[]> {
  const before = (await entries()).length;
  await rdsExpect(code, ['--config', host.config, ...args], opts());
  return (await entries()).slice(before);
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-cli-audit-');
  host = await initHost(root);
  A = await initAgent(root, host, { id: 'AGENTA' });
  B = await initAgent(root, host, { id: 'AGENTB', register: false });
  fs.mkdirSync(path.join(root, 'build'));
  fs.writeFileSync(path.join(root, 'build', 'abcd.exe'), 'v2');
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('every fleet action leaves exactly one entry', () => {
  it('agents add (initAgent registered AGENTA): one agents-add entry naming AGENTA', async () => {
    const all = await entries();
    expect(all.map((e) => [e.action, e.agents, e.status])).toEqual([['agents-add', ['AGENTA'], 0]]);
  });

  it('agents import: one entry naming the imported agent', async () => {
    const csv = path.join(root, 'import.csv');
    fs.writeFileSync(csv, `id,address,key\nAGENTB,agentb@example.com,${B.publicKeyFile}\n`);
    const got = await added(0, ['agents', 'import', csv]);
    expect(got.map((e) => [e.action, e.agents])).toEqual([['agents-import', ['AGENTB']]]);
  });

  it('pack-update: one entry with the SHA-256 of the package it wrote', async () => {
    const script = writeScript(path.join(root, 'install.sh'), 'cp -R "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"');
    pkg = path.join(root, 'update-1.0.02-0.rdsu');
    const mod = `abcd.exe=1.0.01:${path.join(root, 'build', 'abcd.exe')}`;
    const got = await added(0, ['pack-update', '--software-version', '1.0.02-0', '--script', script, '--module', mod, '-o', pkg]);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ action: 'pack-update', package: sha256(pkg), status: 0 });
  });

  it('push-all: one entry naming both agents, the package hash and the rollout', async () => {
    const got = await added(0, ['push-all', pkg]);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ action: 'push-all', agents: ['AGENTA', 'AGENTB'], package: sha256(pkg) });
    expect(String(got[0]?.detail.rolloutId)).toMatch(/^R/);
  });

  it.each([
    [['request-versions'], 'request-versions'],
    [['request-counters'], 'request-counters'],
  ])('%s: one entry', async (args, action) => {
    const got = await added(0, args);
    expect(got.map((e) => [e.action, e.agents])).toEqual([[action, ['AGENTA', 'AGENTB']]]);
  });

  it('verify (fleet failing: exit 1): one entry with its exit code', async () => {
    const got = await added(1, ['verify', '--no-inbox', '--target', '1.0.02-0']);
    expect(got.map((e) => [e.action, e.status, e.detail.failed])).toEqual([['verify', 1, 2]]);
  });

  it('agents remove: one entry naming the agent', async () => {
    const got = await added(0, ['agents', 'remove', 'AGENTB']);
    expect(got.map((e) => [e.action, e.agents])).toEqual([['agents-remove', ['AGENTB']]]);
  });

  it('a refused action is recorded too, with its exit code', async () => {
    const got = await added(2, ['agents', 'add', '--id', 'AGENTA', '--address', 'agenta@example.com', '--key', A.publicKeyFile]);
    expect(got.map((e) => [e.action, e.status])).toEqual([['agents-add', 2]]);
  });

  it('a command that changes nothing leaves no entry', async () => {
    expect(await added(0, ['agents', 'list'])).toEqual([]);
  });

  it('the agent records the install it took in by mail; the host records its update result', async () => {
    await rdsExpect(0, ['--config', A.config, 'poll-mail'], opts());
    const got = await entries(A.config);
    expect(got.map((e) => [e.action, e.detail.version, e.detail.previous])).toEqual([['install', '1.0.02-0', '1.0.00-1']]);
    await rdsExpect(0, ['--config', A.config, 'audit', 'verify'], opts());
    const results = (await added(0, ['inbox'])).filter((e) => e.action === 'install-result');
    expect(results.map((e) => [e.agents, e.detail.outcome, e.detail.softwareVersion])).toEqual([[['AGENTA'], 'installed', '1.0.02-0']]);
  });

  it('a quarantined mail: one mail-quarantined entry with its reason code', async () => {
    dropMail(
      path.join(root, 'mail'),
      'host@example.com',
      rawMail({ from: 'agenta@example.com', to: 'host@example.com', subject: '[rds] x' }),
    );
    const got = (await added(4, ['inbox'])).filter((e) => e.action === 'mail-quarantined');
    expect(got.map((e) => [e.detail.code, e.detail.from])).toEqual([['NOT_SIGNED', 'agenta@example.com']]);
    // inbox appends no entry of its own, but its store closed with this one unsigned: the end
    // of the command opened the store again and signed it
    const verdict = await rdsExpect(0, ['--json', '--config', host.config, 'audit', 'verify'], opts());
    expect((JSON.parse(verdict.stdout) as { unsealed: number }).unsealed).toBe(0);
  });

  it('the agent records a rollback (a failing install script) in its own trail', async () => {
    const script = writeScript(path.join(root, 'fail.sh'), 'exit 7');
    const bad = path.join(root, 'update-1.0.03-0.rdsu');
    const mod = `abcd.exe=1.0.01:${path.join(root, 'build', 'abcd.exe')}`;
    await rdsExpect(
      0,
      ['--config', host.config, 'pack-update', '--software-version', '1.0.03-0', '--script', script, '--module', mod, '-o', bad],
      opts(),
    );
    const before = (await entries(A.config)).length;
    await rdsExpect(1, ['--config', A.config, 'apply-update', await wrapForAgent(host, bad, A.publicKeyFile)], opts());
    const got = (await entries(A.config)).slice(before);
    expect(got.map((e) => [e.action, e.detail.version, e.detail.reason])).toEqual([
      ['rollback', '1.0.03-0', 'install script exited with status 7'],
    ]);
  });

  it('audit list shows hostile text neutralised (an agent id with an escape sequence from a flag)', async () => {
    await rds(['--config', host.config, 'agents', 'remove', 'EVIL\u001b]0;owned\u0007'], opts());
    const r = await rdsExpect(0, ['--config', host.config, 'audit', 'list'], opts());
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('EVIL\\x1b]0;owned\\x07');
  });

  it('keys rotate: one entry; the log still verifies (old checkpoints by the retired key)', async () => {
    expect((await added(0, ['keys', 'rotate'])).map((e) => e.action)).toEqual(['keys-rotate']);
    const r = await rdsExpect(0, ['--config', host.config, 'audit', 'verify'], opts());
    expect(r.stdout).toContain(`${(await entries()).length} entries chain`);
  });
});

describe('tampering in the store is found and named (exit 4)', () => {
  /** Change the stored log with `tamper`, run verify, put the log back. */
  async function verifyTampered(tamper: (db: Database.Database) => void): Promise<string> {
    const db = new Database(hostDb());
    const log = db.prepare('SELECT * FROM audit_log').all();
    const checkpoints = db.prepare('SELECT * FROM audit_checkpoints').all();
    try {
      tamper(db);
      const r = await rds(['--config', host.config, 'audit', 'verify'], opts());
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      return r.stderr;
    } finally {
      db.transaction(() => {
        db.exec('DELETE FROM audit_log; DELETE FROM audit_checkpoints');
        for (const row of log) db.prepare('INSERT INTO audit_log VALUES (@seq, @at, @entry, @hash)').run(row);
        for (const row of checkpoints) db.prepare('INSERT INTO audit_checkpoints VALUES (@count, @head, @at, @signed)').run(row);
      })();
      db.close();
    }
  }

  it('control: the untouched log verifies', async () => {
    await rdsExpect(0, ['--config', host.config, 'audit', 'verify'], opts());
  });

  it('an edited entry', async () => {
    const err = await verifyTampered((db) =>
      db.prepare("UPDATE audit_log SET entry = replace(entry, 'AGENTB', 'AGENTX') WHERE seq = 2").run(),
    );
    expect(err).toContain('entry 2: its content does not match its hash (edited)');
  });

  it('a deleted entry', async () => {
    const err = await verifyTampered((db) => db.prepare('DELETE FROM audit_log WHERE seq = 3').run());
    expect(err).toContain('entry 3: entry 3 is missing (deleted)');
  });

  it('two entries reordered', async () => {
    const err = await verifyTampered((db) => {
      const row = (s: number) => db.prepare('SELECT entry, hash, at FROM audit_log WHERE seq = ?').get(s) as Record<string, string>;
      const [four, five] = [row(4), row(5)];
      db.prepare('UPDATE audit_log SET entry = @entry, hash = @hash, at = @at WHERE seq = 4').run(five);
      db.prepare('UPDATE audit_log SET entry = @entry, hash = @hash, at = @at WHERE seq = 5').run(four);
    });
    expect(err).toContain('entry 4: it holds entry 5 (reordered or moved)');
  });

  it('a truncated log', async () => {
    const err = await verifyTampered((db) => db.prepare('DELETE FROM audit_log WHERE seq >= 6').run());
    expect(err).toContain('entry 6: entry 6 is missing (truncated)');
  });

  it("a forged checkpoint (signed by an agent's key)", async () => {
    const { readPrivateKeyFile } = await import('../../src/core/crypto/keys.js');
    const { signData } = await import('../../src/core/crypto/signed-data.js');
    const agentKey = await readPrivateKeyFile(path.join(A.dir, 'keys', 'private.asc'));
    const forged = await signData(new TextEncoder().encode('{}'), agentKey);
    const err = await verifyTampered((db) => db.prepare('UPDATE audit_checkpoints SET signed = ? WHERE count = 3').run(forged));
    expect(err).toContain('entry 3: the checkpoint at entry 3 is forged');
  });
});

describe('export: an auditor verifies with the public keys alone', () => {
  let file: string;
  let auditor: string;
  let keys: string[];

  beforeAll(async () => {
    file = path.join(root, 'audit.jsonl');
    await rdsExpect(0, ['--config', host.config, 'audit', 'export', '-o', file], opts());
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    auditor = tempDir('rds-cli-auditor-');
    fs.copyFileSync(file, path.join(auditor, 'audit.jsonl'));
    const current = await rdsExpect(0, ['--config', host.config, 'keys', 'export'], opts());
    fs.writeFileSync(path.join(auditor, 'host-new.asc'), current.stdout);
    fs.copyFileSync(host.publicKeyFile, path.join(auditor, 'host-old.asc'));
    keys = ['--key', 'host-old.asc', '--key', 'host-new.asc'];
  });

  afterAll(() => fs.rmSync(auditor, { recursive: true, force: true }));

  it('the export verifies in a folder with no config, with the two public keys (before and after the rotation)', async () => {
    const r = await rdsExpect(0, ['audit', 'verify', '--file', 'audit.jsonl', ...keys], { cwd: auditor });
    expect(r.stdout).toContain(`audit.jsonl: ${(await entries()).length} entries chain`);
  });

  it('without the old key its checkpoints do not verify (exit 4)', async () => {
    const r = await rds(['audit', 'verify', '--file', 'audit.jsonl', '--key', 'host-new.asc'], { cwd: auditor });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/entry 1: the checkpoint at entry 1 is forged/);
  });

  it('an entry edited in the export is named (exit 4)', async () => {
    const lines = fs.readFileSync(path.join(auditor, 'audit.jsonl'), 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"seq":2,'));
    lines[at] = (lines[at] ?? '').replace('AGENTB', 'AGENTX');
    fs.writeFileSync(path.join(auditor, 'edited.jsonl'), lines.join('\n'));
    const r = await rds(['audit', 'verify', '--file', 'edited.jsonl', ...keys], { cwd: auditor });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('edited.jsonl: entry 2: its content does not match its hash (edited)');
  });

  it('--file without --key is a usage error (exit 2)', async () => {
    const r = await rds(['audit', 'verify', '--file', 'audit.jsonl'], { cwd: auditor });
    expect(r.code).toBe(2);
  });
});
