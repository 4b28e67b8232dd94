// The host's PostgreSQL store against a real PostgreSQL (test/support/postgres.ts): the
// migrations applied once when several hosts open a new database at once, `rds store
// migrate` (counts, the refusal of a non-empty target, --force) and the host working on
// the copy, and a refused login named without the password.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/core/store/migrations.js';
import { ensureBuilt, initAgent, initHost, ROOT, rds, rdsExpect, tempDir } from '../support/cli.js';
import { adminQuery, freshStore } from '../support/pg.js';

beforeAll(() => {
  if (process.env.RDS_TEST_STORE) throw new Error('test/pg makes its own stores: run it without RDS_TEST_STORE');
  ensureBuilt();
});

/** Open the store (migrating it) in a separate process; resolves with its exit code. */
function openInChild(url: string, password: string): Promise<number | null> {
  const code = `import(${JSON.stringify(path.join(ROOT, 'dist/core/store/pg/open.js'))}).then((m) => { m.openPgStore({ url: process.env.U, password: process.env.P }).close(); })`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code], { env: { ...process.env, U: url, P: password }, stdio: 'inherit' });
    child.on('close', resolve);
  });
}

describe('migrations on PostgreSQL', () => {
  it('three processes opening a new database at once apply every migration exactly once', async () => {
    const store = await freshStore(tempDir('rds-pg-'));
    const codes = await Promise.all([1, 2, 3].map(() => openInChild(store.url, store.password)));
    expect(codes).toEqual([0, 0, 0]);
    const { rows } = await adminQuery('SELECT version FROM schema_migrations ORDER BY version', store.database);
    expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
  });
});

describe('rds store migrate', () => {
  it('copies a host with agents and queued mail, counts match, a second copy needs --force, the host runs on the copy', async () => {
    const root = tempDir('rds-pg-migrate-');
    const host = await initHost(root);
    for (const id of ['AGENT0000001', 'AGENT0000002']) await initAgent(root, host, { id });
    await rdsExpect(0, ['--config', host.config, 'request-versions'], { cwd: root });
    const store = await freshStore(root);
    const args = ['--config', host.config, 'store', 'migrate', '--to', store.url, '--store-password-file', store.passwordFile];

    const first = await rdsExpect(0, ['--json', ...args], { cwd: root });
    const copied = JSON.parse(first.stdout) as { tables: { table: string; source: number; target: number }[]; rows: number };
    const byTable = new Map(copied.tables.map((t) => [t.table, t]));
    expect(byTable.get('agents')).toEqual({ table: 'agents', source: 2, target: 2 });
    expect(byTable.get('outbox')).toEqual({ table: 'outbox', source: 2, target: 2 });
    expect(byTable.get('requests')).toEqual({ table: 'requests', source: 2, target: 2 });

    const again = await rds(args, { cwd: root });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('the PostgreSQL store is not empty');
    await rdsExpect(0, [...args, '--force'], { cwd: root });

    const config = JSON.parse(fs.readFileSync(host.config, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(host.config, JSON.stringify({ ...config, store: store.url, storePasswordFile: store.passwordFile }, null, 2));
    const listed = await rdsExpect(0, ['--config', host.config, '--json', 'agents', 'list'], { cwd: root });
    expect((JSON.parse(listed.stdout) as { agents: { id: string }[] }).agents.map((a) => a.id)).toEqual(['AGENT0000001', 'AGENT0000002']);
    // new rows continue after the copied keys (the sequences were moved on)
    await rdsExpect(0, ['--config', host.config, 'request-versions'], { cwd: root });
    const { rows } = await adminQuery('SELECT seq FROM outbox ORDER BY seq', store.database);
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4]);
    // doctor names the store it opened, never the password
    const doctor = await rds(['--config', host.config, 'doctor'], { cwd: root });
    expect(doctor.stdout).toMatch(/ok +state database +PostgreSQL store postgres:\/\/rds@127\.0\.0\.1:\d+\/rds_\w+\?sslmode=disable opens/);
    expect(`${doctor.stdout}${doctor.stderr}`).not.toContain(store.password);
  });

  it('a refused login is one line naming the store, exit 2, without the password', async () => {
    const root = tempDir('rds-pg-auth-');
    const host = await initHost(root);
    const store = await freshStore(root);
    const wrong = path.join(root, 'wrong-password');
    fs.writeFileSync(wrong, 'not-the-password-4711\n', { mode: 0o600 });
    const r = await rds(['--config', host.config, 'store', 'migrate', '--to', store.url, '--store-password-file', wrong], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`store ${store.url.replace('?sslmode=disable', '')}`);
    expect(r.stderr).not.toContain('not-the-password-4711');
  });
});

describe('rds init --store', () => {
  it('refuses sslmode=disable to a server that is not on loopback, before writing anything', async () => {
    const root = tempDir('rds-pg-init-');
    const dir = path.join(root, 'host');
    const mail = `maildir://${path.join(root, 'mail')}`;
    const r = await rds(
      [
        'init',
        '--role',
        'host',
        '--id',
        'HOST',
        '--address',
        'h@example.com',
        '--smtp',
        mail,
        '--imap',
        mail,
        '--dir',
        dir,
        '--store',
        'postgres://rds@db.example.com/rds?sslmode=disable',
      ],
      { cwd: root },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sslmode=disable is for a loopback server only, not db.example.com');
    expect(fs.existsSync(path.join(dir, 'config.json'))).toBe(false);
  });
});
