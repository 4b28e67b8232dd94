// The host at fleet scale (issue 14 §1): the whole host cycle on the embedded backend
// (maildir://) for a fleet of N agents, at N = 1,000, 5,000 and 10,000 (BENCH_SCALE_N,
// comma-separated, to choose), one host per N:
//
//   agents import      the N agents registered (rds agents import, one JSON file)
//   push-all           one small update package to all N (one wave)
//   inbox results      `rds inbox --max N` over the N update-results ('installed'; one pass)
//   request-versions   a version-request to all N
//   inbox reports      `rds inbox --max N` over the N version-reports
//   verify             `rds verify --no-inbox`: the table once the reports are in
//   rollout status     `rds rollout status --json`
//
// Each step is one `rds` child process, timed from spawn to exit, with its peak RSS (GNU time,
// or bench/_maxrss.mjs) and its CPU time (user+sys, GNU time: less bent by a busy machine
// than wall time, shown next to it). The agents' replies (signed as an agent's reply() signs them, in
// one child process per CPU: bench/_scale-fleet.mjs) are dropped into the host's Maildir
// between the steps, untimed (their time is in the note). Growth = time at the largest N /
// time at the smallest (linear = the ratio of the Ns, 10× for 1k → 10k); goal ≤ 1.1 × that
// ratio per step, peak RSS ≤ 1.3× from the smallest to the largest N, and the verify table at
// 10,000 agents in < 2 s.
// Agent keys are made once and cached outside the repository (BENCH_KEY_CACHE, default
// $TMPDIR/rds-bench-keys, mode 0700; 500 agents a file); the first 10,000-agent run spends a
// few minutes making them. BENCH_SCALE_RUNS (1) runs each N that many times (medians).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exec, measure, median } from './_lib.mjs';

export const title = 'scale: the host cycle at 1,000, 5,000 and 10,000 agents (maildir://)';

const DOMAIN = 'example.test';
const VERSION = '1.0.02-0';
const MAILBOXES = 20;
const CHUNK = 500;
const STEPS = ['agents import', 'push-all', 'inbox results', 'request-versions', 'inbox reports', 'verify', 'rollout status'];

function spawnOut(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')}: exit ${code}\n${err.slice(-2000)}`))));
  });
}

/** Run jobs (functions returning promises) at most `width` at once. */
async function pool(jobs, width) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
}

const cpus = () => os.availableParallelism?.() ?? os.cpus().length;

/** The cached key chunks covering agents 1..n, made where missing. */
export async function keyChunks(ctx, n) {
  const cache = process.env.BENCH_KEY_CACHE ?? path.join(os.tmpdir(), 'rds-bench-keys');
  fs.mkdirSync(cache, { recursive: true, mode: 0o700 });
  const chunks = [];
  for (let from = 1; from <= n; from += CHUNK) {
    const to = from + CHUNK - 1;
    chunks.push({ from, to, file: path.join(cache, `chunk-${from}-${to}.json`) });
  }
  const missing = chunks.filter((c) => !fs.existsSync(c.file));
  if (missing.length > 0) {
    ctx.log(`making ${missing.length * CHUNK} agent key pairs into ${cache} (${cpus()} processes; cached for later runs)`);
    const helper = path.join(ctx.root, 'bench', '_scale-fleet.mjs');
    await pool(
      missing.map((c) => () => spawnOut([process.execPath, helper, 'keys', ctx.root, cache, String(c.from), String(c.to)])),
      cpus(),
    );
  }
  return chunks;
}

/** Signed replies of agents 1..n dropped into the host's Maildir, one process per CPU; ms taken. */
async function deliver(ctx, spec, n) {
  const t0 = performance.now();
  const file = path.join(ctx.tmp, `spec-${spec.kind}.json`);
  fs.writeFileSync(file, JSON.stringify(spec));
  const helper = path.join(ctx.root, 'bench', '_scale-fleet.mjs');
  const width = cpus();
  const size = Math.ceil(n / width);
  const jobs = [];
  for (let from = 1; from <= n; from += size) {
    const to = Math.min(n, from + size - 1);
    jobs.push(() => spawnOut([process.execPath, helper, 'replies', ctx.root, file, String(from), String(to)]));
  }
  await pool(jobs, width);
  return performance.now() - t0;
}

/** One host with n agents: init, package, agents file (untimed). */
export function setUpHost(ctx, n, chunks, work) {
  const rds = (...args) => [process.execPath, ctx.bin, ...args];
  const mailRoot = path.join(work, 'mail');
  fs.mkdirSync(mailRoot, { recursive: true, mode: 0o700 });
  const hostDir = path.join(work, 'host');
  const hostAddress = `host@${DOMAIN}`;
  const box = `maildir://${mailRoot}`;
  exec(rds('init', '--role', 'host', '--id', 'HOST', '--address', hostAddress, '--smtp', box, '--imap', box, '--dir', hostDir));
  const host = (...args) => rds('--config', path.join(hostDir, 'config.json'), ...args);
  const script = path.join(work, 'install.sh');
  fs.writeFileSync(script, '#!/bin/sh\nset -e\ncp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(work, 'main.cgi'), 'main 1.0.02\n');
  const pkg = path.join(work, 'update.rdsu');
  exec(
    host(
      'pack-update',
      '--software-version',
      VERSION,
      '--script',
      script,
      '--module',
      `main.cgi=1.0.02:${path.join(work, 'main.cgi')}`,
      '-o',
      pkg,
    ),
  );
  const addresses = Array.from({ length: MAILBOXES }, (_, i) => `agent${i + 1}@${DOMAIN}`);
  const agentsFile = path.join(work, 'agents.json');
  const entries = [];
  for (const c of chunks) {
    const rows = JSON.parse(fs.readFileSync(c.file, 'utf8'));
    rows.forEach((r, i) => {
      const k = c.from + i;
      if (k <= n) entries.push({ id: r.id, address: addresses[(k - 1) % MAILBOXES], key: r.publicArmored, note: 'bench' });
    });
  }
  fs.writeFileSync(agentsFile, JSON.stringify(entries));
  return { host, hostAddress, mailRoot, pkg, addresses, agentsFile };
}

const expect = (r, text, what) => {
  if (!r.stdout.includes(text))
    throw new Error(`${what}: expected '${text}' in its output:\n${r.stdout.slice(0, 1500)}\n${r.stderr.slice(-1500)}`);
  return r;
};

/** The whole cycle once for n agents: { step: {ms, rssKB, cpuMs, load} }, and the untimed delivery times. */
async function cycle(ctx, n, chunks) {
  const work = fs.mkdtempSync(path.join(ctx.tmp, `n${n}-`));
  const s = setUpHost(ctx, n, chunks, work);
  const out = {};
  const step = async (name, argv, check) => {
    const load = os.loadavg()[0];
    const r = await measure(argv);
    check(r);
    out[name] = { ms: r.ms, rssKB: r.rssKB, cpuMs: r.cpuMs, load };
    ctx.log(
      `  n=${n} ${name}: ${(r.ms / 1000).toFixed(2)} s, ${r.rssKB === null ? '?' : Math.round(r.rssKB / 1024)} MB, load ${load.toFixed(1)}`,
    );
    return r;
  };
  await step('agents import', s.host('agents', 'import', s.agentsFile), (r) => expect(r, `${n}`, 'agents import'));
  await step('push-all', s.host('push-all', s.pkg), (r) => expect(r, `sent to ${n} of ${n} agents`, 'push-all'));
  const [rollout] = JSON.parse(exec(s.host('--json', 'rollouts'))).rollouts;
  for (const a of s.addresses) fs.rmSync(path.join(s.mailRoot, a), { recursive: true, force: true }); // the agents' copies: disk only
  const spec = { mailRoot: s.mailRoot, hostAddress: s.hostAddress, hostId: 'HOST', addresses: s.addresses, version: VERSION, chunks };
  const delivered = {};
  delivered.results = await deliver(ctx, { ...spec, kind: 'update-result', rolloutId: rollout.id, packageId: rollout.packageId }, n);
  await step('inbox results', s.host('inbox', '--max', String(n)), (r) => expect(r, `${n} update-result`, 'inbox'));
  await step('request-versions', s.host('request-versions'), (r) => expect(r, `${n}`, 'request-versions'));
  for (const a of s.addresses) fs.rmSync(path.join(s.mailRoot, a), { recursive: true, force: true });
  delivered.reports = await deliver(ctx, { ...spec, kind: 'version-report' }, n);
  await step('inbox reports', s.host('inbox', '--max', String(n)), (r) => expect(r, `${n} version-report`, 'inbox'));
  await step('verify', s.host('verify', '--no-inbox'), (r) => expect(r, `0 of ${n} agents failed`, 'verify'));
  await step('rollout status', s.host('--json', 'rollout', 'status', rollout.id), (r) => {
    const got = JSON.parse(r.stdout);
    if (got.counts?.installed !== n) throw new Error(`rollout status: ${got.counts?.installed} of ${n} installed`);
  });
  fs.rmSync(work, { recursive: true, force: true });
  return { steps: out, delivered };
}

const mb = (kb) => (kb === null ? null : kb / 1024);
const medianOf = (xs) => (xs.some((x) => x === null) ? null : median(xs));

export async function run(ctx) {
  const ns = (process.env.BENCH_SCALE_N ?? '1000,5000,10000')
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isInteger(x) && x > 0)
    .sort((a, b) => a - b);
  if (ns.length === 0) throw new Error('BENCH_SCALE_N names no agent count');
  const runs = Math.max(1, Number(process.env.BENCH_SCALE_RUNS ?? 1));
  const chunks = await keyChunks(ctx, ns.at(-1));
  const results = new Map();
  const loads = [];
  const deliveries = [];
  for (const n of ns) {
    const got = [];
    for (let i = 0; i < runs; i++) {
      ctx.log(`cycle at ${n} agents (run ${i + 1} of ${runs})`);
      loads.push(os.loadavg()[0]);
      got.push(await cycle(ctx, n, chunks));
    }
    const steps = Object.fromEntries(
      STEPS.map((name) => [
        name,
        {
          ms: median(got.map((g) => g.steps[name].ms)),
          rssKB: medianOf(got.map((g) => g.steps[name].rssKB)),
          cpuMs: medianOf(got.map((g) => g.steps[name].cpuMs)),
          load: median(got.map((g) => g.steps[name].load)),
        },
      ]),
    );
    results.set(n, steps);
    const d = got[0].delivered;
    deliveries.push(`${n}: results ${(d.results / 1000).toFixed(1)} s, reports ${(d.reports / 1000).toFixed(1)} s`);
  }
  return { rows: rowsOf(ns, results), note: noteOf(ns, runs, loads, deliveries) };
}

function rowsOf(ns, results) {
  const lo = ns[0];
  const hi = ns.at(-1);
  const rows = [];
  for (const name of STEPS) {
    for (const n of ns) {
      const r = results.get(n)[name];
      rows.push({
        name: `${name} @ ${n}: time (${(r.ms / n).toFixed(2)} ms/agent, load ${r.load.toFixed(1)})`,
        value: r.ms,
        baseline: null,
        ratio: null,
        unit: 'ms',
        ...(name === 'verify' && n >= 10_000 ? { goal: { on: 'value', max: 2000, text: '< 2 s at 10k' } } : {}),
      });
    }
    if (ns.length > 1) {
      const [a, b] = [results.get(lo)[name], results.get(hi)[name]];
      rows.push(...growthRows(name, [lo, hi], { ...a, mb: mb(a.rssKB) }, { ...b, mb: mb(b.rssKB) }));
    }
  }
  return rows;
}

/**
 * A step's growth from the smallest fleet to the largest: time (goal ≤ 1.1 × linear), CPU,
 * peak RSS (goal ≤ 1.3×). `a`, `b`: { ms, cpuMs, mb } at `lo` and `hi` agents.
 */
export function growthRows(name, [lo, hi], a, b) {
  const linear = hi / lo;
  const of = (x, y) => (x && y ? y / x : null);
  return [
    {
      name: `${name}: growth ${lo} → ${hi} (linear ${linear}×)`,
      value: b.ms,
      baseline: a.ms,
      ratio: b.ms / a.ms,
      unit: 'ms',
      goal: { on: 'ratio', max: 1.1 * linear, text: `≤ ${(1.1 * linear).toFixed(1)}×` },
    },
    { name: `${name}: CPU (user+sys) growth ${lo} → ${hi}`, value: b.cpuMs, baseline: a.cpuMs, ratio: of(a.cpuMs, b.cpuMs), unit: 'ms' },
    {
      name: `${name}: peak RSS ${lo} → ${hi}`,
      value: b.mb,
      baseline: a.mb,
      ratio: of(a.mb, b.mb),
      unit: 'MB',
      goal: { on: 'ratio', max: 1.3, text: '≤ 1.3×' },
    },
  ];
}

function noteOf(ns, runs, loads, deliveries) {
  return (
    `N = ${ns.join(', ')}; ${runs} run(s) each (medians); maildir:// backend, ${MAILBOXES} shared agent mailboxes; ` +
    `machine load (1-min avg) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}, now ${os.loadavg()[0].toFixed(1)}, ${os.cpus().length} CPU; ` +
    `replies delivered (untimed, ${cpus()} processes): ${deliveries.join('; ')}`
  );
}
