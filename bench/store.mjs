// The host's store (issue 14 part 2): an `rds inbox` pass over the same 1,000 update-results
// with the host's state in PostgreSQL vs in the state dir's SQLite, side by side in one run.
//
//   postgres  `rds inbox` with `store: postgres://…` (a private PostgreSQL 15 started by
//             scripts/testbed/start-postgres.sh in the bench's temp dir, loopback, fsync off)
//   sqlite    the same pass on the embedded store
//
// Setup (untimed) is bench/rollout.mjs's: a host, 1,000 registered agents, a push-all to all
// of them, 1,000 signed update-results. Before each run (untimed) the host is put back to the
// snapshot after the push (PostgreSQL: `rds store migrate --force` from that snapshot) and the
// same mails are delivered again (maildir:// backend: the figures are rds's own work).
// One worker only: the several-workers inbox is another part of issue 14 (rows to add then).
// BENCH_STORE_AGENTS (1000) changes the size; the load average is shown next to the figures.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, exec, measure, median, rowOf } from './_lib.mjs';
import { buildResults, setUp } from './rollout.mjs';

export const title = 'store: inbox of 1,000 update-results, host on PostgreSQL vs SQLite';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startPostgres(ctx) {
  const dir = path.join(ctx.tmp, 'pg');
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const scripts = path.join(ctx.root, 'scripts', 'testbed');
  execFileSync(path.join(scripts, 'start-postgres.sh'), [dir], {
    env: { ...process.env, PG_PORT: String(port), PG_PASSWORD: password },
    stdio: 'ignore',
  });
  const stop = () => execFileSync(path.join(scripts, 'stop-postgres.sh'), [dir], { stdio: 'ignore' });
  const passwordFile = path.join(ctx.tmp, 'store-password');
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'rds', password, database: 'postgres' });
  await client.connect();
  await client.query('CREATE DATABASE rds_bench');
  await client.end();
  return { url: `postgres://rds@127.0.0.1:${port}/rds_bench?sslmode=disable`, passwordFile, stop };
}

export async function run(ctx) {
  const agents = Number(process.env.BENCH_STORE_AGENTS ?? 1000);
  const rds = (...args) => [process.execPath, ctx.bin, ...args];
  const mailRoot = path.join(ctx.tmp, 'mail');
  fs.mkdirSync(mailRoot, { recursive: true, mode: 0o700 });
  const pg = await startPostgres(ctx);
  try {
    const s = await setUp(ctx, agents, rds, mailRoot);
    ctx.log(`building ${agents} signed update-results`);
    const results = await buildResults(ctx, s);
    const snapshot = path.join(ctx.tmp, 'host-snapshot');
    fs.cpSync(s.hostDir, snapshot, { recursive: true });
    const sqliteConfig = JSON.parse(fs.readFileSync(s.hostConfig, 'utf8'));
    const pgConfigFile = path.join(ctx.tmp, 'host-pg.json');
    fs.writeFileSync(pgConfigFile, JSON.stringify({ ...sqliteConfig, store: pg.url, storePasswordFile: pg.passwordFile }), { mode: 0o600 });
    const { MaildirSender } = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'mail', 'maildir.js')).href);
    const { mailboxDir } = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'mail', 'maildir-layout.js')).href);
    const sender = new MaildirSender(mailRoot, { fsync: false });
    const loads = [];
    const before = async (side) => {
      fs.rmSync(s.hostDir, { recursive: true, force: true });
      fs.cpSync(snapshot, s.hostDir, { recursive: true });
      if (side === 'a') exec(s.host('store', 'migrate', '--to', pg.url, '--store-password-file', pg.passwordFile, '--force'));
      fs.rmSync(mailboxDir(mailRoot, s.hostAddress), { recursive: true, force: true });
      for (const raw of results) await sender.sendRaw({ from: 'bench@example.test', to: [s.hostAddress] }, raw);
      loads.push(os.loadavg()[0]);
    };
    const inbox = async (config) => {
      const m = await measure(rds('--config', config, 'inbox'));
      if (!m.stdout.includes(`${agents} update-result`)) throw new Error(`inbox did not take in every result:\n${m.stdout.slice(0, 2000)}`);
      return m;
    };
    ctx.log(`${agents} results, ${ctx.runs} runs each (+1 warm-up), alternating; host state and mail put back before each`);
    const loadStart = os.loadavg()[0];
    const r = await compare(
      ctx.runs,
      () => inbox(pgConfigFile),
      () => inbox(s.hostConfig),
      { before },
    );
    const load = median(loads);
    return {
      note:
        `${agents} agents, maildir:// backend, 1 worker; machine load (1-min avg): ${loadStart.toFixed(2)} at the start, median ${load.toFixed(2)} over the runs, ` +
        `${os.loadavg()[0].toFixed(2)} at the end, ${os.cpus().length} CPU; runs (ms) postgres ${r.a.all.join('/')} sqlite ${r.b.all.join('/')}`,
      rows: [
        rowOf(`inbox ${agents} results, PostgreSQL (1 worker): time`, r, 'ms', 'shown next to SQLite'),
        rowOf('inbox on PostgreSQL: CPU (user+sys)', r, 'cpuMs'),
        rowOf('inbox on PostgreSQL: peak RSS', r, 'rssKB'),
        { name: 'machine load during the runs (1-min avg, median)', value: load, baseline: null, ratio: null, unit: 'load' },
      ],
    };
  } finally {
    pg.stop();
  }
}
