// The host's store (issue 14 part 2): inbox+verify of the same 1,000 signed version reports
// with the host's state in the state dir's SQLite and in PostgreSQL, with 1 and with 2
// workers, side by side in one run.
//
//   sqlite        `rds inbox` (1 process), then `rds verify --no-inbox` (the table)
//   sqlite ×2     `rds inbox --worker` twice at once, then the table
//   postgres      `rds inbox` with `store: postgres://…`, then the table
//   postgres ×2   `rds inbox --worker` twice at once on PostgreSQL, then the table
//
// PostgreSQL is a private PostgreSQL 15 started by scripts/testbed/start-postgres.sh in the
// bench's temp dir (loopback, fsync off: the figures are rds's work, not a disk's). Setup
// (untimed): a host, N registered agents (keys cached as bench/scale.mjs caches them), N
// signed version reports (bench/_scale-fleet.mjs) kept aside. Before each run (untimed) the
// host is put back to the snapshot taken before any report (PostgreSQL: `rds store migrate
// --force` from that snapshot) and the same mails are put back into its Maildir (maildir://
// backend: no mail server in the figures). A side's time is from the first spawn until the
// verify table is printed; CPU is the sum over its processes, RSS the largest. Each run
// checks that every report was acted on exactly once (the workers' `processed` add up to N),
// that the inbox is empty, and that the table shows every agent on the version.
// BENCH_STORE_N (1000) changes the size, BENCH_RUNS the runs; sides rotate each round.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { exec, freePort, measure, median } from './_lib.mjs';
import { keyChunks, setUpHost } from './scale.mjs';

export const title = 'store: inbox+verify of 1,000 version reports, SQLite vs PostgreSQL with 1 and 2 workers';

const VERSION = '1.0.02-0';

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

function spawnOut(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')}: exit ${code}\n${err.slice(-2000)}`))));
  });
}

/** Several commands at once: wall time until the last exits, CPU summed, the largest RSS. */
async function measureTogether(argvs) {
  const t0 = performance.now();
  const rs = await Promise.all(argvs.map((argv) => measure(argv)));
  const sum = (k) => (rs.some((r) => r[k] === null) ? null : rs.reduce((a, r) => a + r[k], 0));
  return {
    ms: performance.now() - t0,
    cpuMs: sum('cpuMs'),
    rssKB: rs.some((r) => r.rssKB === null) ? null : Math.max(...rs.map((r) => r.rssKB)),
    outs: rs.map((r) => r.stdout),
  };
}

/** The N reports: signed by each agent, dropped into the host's Maildir once, kept aside (untimed). */
async function buildReports(ctx, s, n, chunks) {
  const spec = { mailRoot: s.mailRoot, hostAddress: s.hostAddress, hostId: 'HOST', addresses: s.addresses, version: VERSION, chunks };
  const file = path.join(ctx.tmp, 'spec-reports.json');
  fs.writeFileSync(file, JSON.stringify({ ...spec, kind: 'version-report' }));
  const helper = path.join(ctx.root, 'bench', '_scale-fleet.mjs');
  const half = Math.ceil(n / 2);
  const ranges = [
    [1, half],
    [half + 1, n],
  ].filter(([a, b]) => a <= b);
  await Promise.all(ranges.map(([a, b]) => spawnOut([process.execPath, helper, 'replies', ctx.root, file, String(a), String(b)])));
  const { mailboxDir } = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'mail', 'maildir-layout.js')).href);
  const box = mailboxDir(s.mailRoot, s.hostAddress);
  const stash = path.join(ctx.tmp, 'reports');
  fs.renameSync(path.join(box, 'new'), stash);
  for (const a of s.addresses) fs.rmSync(path.join(s.mailRoot, a), { recursive: true, force: true });
  return { box, stash };
}

export async function run(ctx) {
  const n = Number(process.env.BENCH_STORE_N ?? process.env.BENCH_STORE_AGENTS ?? 1000);
  const pg = await startPostgres(ctx);
  try {
    const chunks = await keyChunks(ctx, n);
    const work = path.join(ctx.tmp, 'work');
    fs.mkdirSync(work, { recursive: true, mode: 0o700 });
    const s = setUpHost(ctx, n, chunks, work);
    exec(s.host('agents', 'import', s.agentsFile));
    ctx.log(`signing ${n} version reports`);
    const mail = await buildReports(ctx, s, n, chunks);
    const hostDir = path.join(work, 'host');
    const snapshot = path.join(ctx.tmp, 'host-snapshot');
    fs.cpSync(hostDir, snapshot, { recursive: true });
    const sqliteConfig = path.join(hostDir, 'config.json');
    const pgConfig = path.join(ctx.tmp, 'host-pg.json');
    const base = JSON.parse(fs.readFileSync(sqliteConfig, 'utf8'));
    fs.writeFileSync(pgConfig, JSON.stringify({ ...base, store: pg.url, storePasswordFile: pg.passwordFile }), { mode: 0o600 });
    const rds = (config, ...args) => [process.execPath, ctx.bin, '--config', config, ...args];
    const sides = [
      { name: 'sqlite', label: 'SQLite, 1 process', config: sqliteConfig, workers: 1 },
      { name: 'sqlite2', label: 'SQLite, 2 workers', config: sqliteConfig, workers: 2 },
      { name: 'pg', label: 'PostgreSQL, 1 worker', config: pgConfig, workers: 1 },
      { name: 'pg2', label: 'PostgreSQL, 2 workers', config: pgConfig, workers: 2 },
    ];
    const restore = (side) => {
      fs.rmSync(hostDir, { recursive: true, force: true });
      fs.cpSync(snapshot, hostDir, { recursive: true });
      if (side.config === pgConfig) exec(s.host('store', 'migrate', '--to', pg.url, '--store-password-file', pg.passwordFile, '--force'));
      fs.rmSync(mail.box, { recursive: true, force: true });
      fs.mkdirSync(path.join(mail.box, 'tmp'), { recursive: true, mode: 0o700 });
      fs.mkdirSync(path.join(mail.box, 'cur'), { recursive: true, mode: 0o700 });
      fs.cpSync(mail.stash, path.join(mail.box, 'new'), { recursive: true });
    };
    const once = async (side) => {
      const inbox =
        side.workers === 1
          ? [rds(side.config, '--json', 'inbox')]
          : Array.from({ length: side.workers }, () => rds(side.config, '--json', 'inbox', '--worker'));
      const a = await measureTogether(inbox);
      const b = await measureTogether([rds(side.config, 'verify', '--no-inbox', '--target', VERSION)]);
      const taken = a.outs.map((o) => JSON.parse(o));
      const acted = taken.reduce((k, t) => k + t.processed.length, 0);
      const dup = taken.reduce((k, t) => k + t.alreadyDone.length, 0);
      if (acted !== n) throw new Error(`${side.label}: ${acted} reports acted on, expected ${n} exactly`);
      const left = fs.readdirSync(path.join(mail.box, 'new')).length + fs.readdirSync(path.join(mail.box, 'cur')).length;
      if (left !== 0) throw new Error(`${side.label}: ${left} mails left in INBOX`);
      if (!b.outs[0].includes(`0 of ${n} agents failed`)) throw new Error(`${side.label}: verify:\n${b.outs[0].slice(-1500)}`);
      return {
        ms: a.ms + b.ms,
        cpuMs: a.cpuMs === null || b.cpuMs === null ? null : a.cpuMs + b.cpuMs,
        rssKB: a.rssKB === null ? null : Math.max(a.rssKB, b.rssKB ?? 0),
        dup,
      };
    };
    const got = Object.fromEntries(sides.map((x) => [x.name, []]));
    const loads = [];
    const loadStart = os.loadavg()[0];
    ctx.log(`${n} reports, ${ctx.runs} runs of each side (+1 warm-up), sides rotating; host state and mail put back before each`);
    for (let i = 0; i < ctx.runs + 1; i++) {
      const order = sides.map((_, k) => sides[(k + i) % sides.length]);
      for (const side of order) {
        restore(side);
        loads.push(os.loadavg()[0]);
        const r = await once(side);
        if (i > 0) got[side.name].push(r);
        ctx.log(
          `  ${side.label}: ${(r.ms / 1000).toFixed(2)} s, CPU ${((r.cpuMs ?? 0) / 1000).toFixed(2)} s${r.dup ? `, ${r.dup} moved as taken in by the other worker` : ''}`,
        );
      }
    }
    return report(n, sides, got, { loadStart, loads });
  } finally {
    pg.stop();
  }
}

function report(n, sides, got, { loadStart, loads }) {
  const med = (name, k) => {
    const xs = got[name].map((r) => r[k]);
    return xs.some((x) => x === null || x === undefined) ? null : median(xs);
  };
  const base = { ms: med('sqlite', 'ms'), cpuMs: med('sqlite', 'cpuMs') };
  const rows = [];
  for (const side of sides) {
    const ms = med(side.name, 'ms');
    const cpu = med(side.name, 'cpuMs');
    rows.push({
      name: `inbox+verify ${n} reports, ${side.label}: time`,
      value: ms,
      baseline: base.ms,
      ratio: ms / base.ms,
      unit: 'ms',
    });
    rows.push({
      name: `  ${side.label}: CPU (user+sys, all processes)`,
      value: cpu,
      baseline: base.cpuMs,
      ratio: cpu === null || !base.cpuMs ? null : cpu / base.cpuMs,
      unit: 'ms',
    });
    const rss = med(side.name, 'rssKB');
    rows.push({
      name: `  ${side.label}: peak RSS (largest process)`,
      value: rss === null ? null : rss / 1024,
      baseline: null,
      ratio: null,
      unit: 'MB',
    });
  }
  const load = median(loads);
  rows.push({ name: 'machine load during the runs (1-min avg, median)', value: load, baseline: null, ratio: null, unit: 'load' });
  const all = sides.map((x) => `${x.name} ${got[x.name].map((r) => Math.round(r.ms)).join('/')}`).join(', ');
  const dups = sides
    .filter((x) => x.workers > 1)
    .map((x) => `${x.name} ${got[x.name].map((r) => r.dup).join('/')}`)
    .join(', ');
  return {
    note:
      `${n} agents, maildir:// backend, baseline = SQLite 1 process; machine load (1-min avg): ${loadStart.toFixed(2)} at the start, ` +
      `median ${load.toFixed(2)} over the runs, ${os.loadavg()[0].toFixed(2)} at the end, ${os.cpus().length} CPU; runs (ms) ${all}; ` +
      `mails a worker found taken in by the other (moved, not acted on): ${dups}`,
    rows,
  };
}
