// The host's inbox alone at fleet scale (issue 14 §1, the rows of `scale` that grew worst):
// one host per N (BENCH_INBOX_N, default 1000,10000) with N registered agents on 20 shared
// mailboxes (bench/scale.mjs's set-up and cached keys) and one signed version-report of each
// waiting in its Maildir; then `rds inbox --max N` timed BENCH_RUNS times (3), each run on a
// fresh copy of that state (copied, untimed), with its peak RSS and CPU time (GNU time).
// Rows: time and peak RSS at each N (medians) and their growth from the smallest N to the
// largest, against the goals of `scale` (time ≤ 1.1 × linear, peak RSS ≤ 1.3×). Quicker than
// the whole cycle of `scale`: no push-all, request-versions or verify in between.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measure, median } from './_lib.mjs';
import { growthRows, keyChunks, setUpHost } from './scale.mjs';

export const title = 'inbox-scale: `rds inbox` over N version reports, N = 1,000 and 10,000 agents (maildir://)';

function spawnRun(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')}: exit ${code}\n${err.slice(-1500)}`))));
  });
}

/** A host of n agents with their n version reports waiting: its folder (kept as the pristine copy). */
async function prepare(ctx, n, chunks) {
  const work = path.join(ctx.tmp, `n${n}`);
  fs.mkdirSync(work, { recursive: true });
  const s = setUpHost(ctx, n, chunks, work);
  await spawnRun(s.host('agents', 'import', s.agentsFile));
  const spec = path.join(work, 'spec.json');
  const addresses = s.addresses;
  fs.writeFileSync(
    spec,
    JSON.stringify({
      mailRoot: s.mailRoot,
      hostAddress: s.hostAddress,
      hostId: 'HOST',
      addresses,
      version: '1.0.02-0',
      chunks,
      kind: 'version-report',
    }),
  );
  const helper = path.join(ctx.root, 'bench', '_scale-fleet.mjs');
  const width = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const size = Math.ceil(n / width);
  const jobs = [];
  for (let from = 1; from <= n; from += size)
    jobs.push(spawnRun([process.execPath, helper, 'replies', ctx.root, spec, String(from), String(Math.min(n, from + size - 1))]));
  await Promise.all(jobs);
  return { work, argv: s.host('inbox', '--max', String(n)) };
}

export async function run(ctx) {
  const ns = (process.env.BENCH_INBOX_N ?? '1000,10000')
    .split(',')
    .map(Number)
    .filter((x) => Number.isInteger(x) && x > 0)
    .sort((a, b) => a - b);
  const chunks = await keyChunks(ctx, ns.at(-1));
  const got = new Map();
  const loads = [];
  for (const n of ns) {
    ctx.log(`inbox at ${n} agents: preparing`);
    const { work, argv } = await prepare(ctx, n, chunks);
    const pristine = `${work}.pristine`;
    fs.cpSync(work, pristine, { recursive: true });
    const runs = [];
    for (let i = 0; i < ctx.runs; i++) {
      fs.rmSync(work, { recursive: true, force: true });
      fs.cpSync(pristine, work, { recursive: true });
      const load = os.loadavg()[0];
      loads.push(load);
      const r = await measure(argv);
      if (!r.stdout.includes(`${n} version-report`)) throw new Error(`inbox at ${n}: ${r.stdout.slice(0, 500)}`);
      runs.push(r);
      ctx.log(`  n=${n} run ${i + 1}: ${(r.ms / 1000).toFixed(2)} s, ${Math.round((r.rssKB ?? 0) / 1024)} MB, load ${load.toFixed(1)}`);
    }
    got.set(n, {
      ms: median(runs.map((r) => r.ms)),
      mb: median(runs.map((r) => (r.rssKB ?? 0) / 1024)),
      cpu: median(runs.map((r) => r.cpuMs ?? 0)),
    });
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(pristine, { recursive: true, force: true });
  }
  const rows = [];
  for (const n of ns) {
    const g = got.get(n);
    rows.push({ name: `inbox @ ${n}: time (CPU ${(g.cpu / 1000).toFixed(1)} s)`, value: g.ms, baseline: null, ratio: null, unit: 'ms' });
    rows.push({ name: `inbox @ ${n}: peak RSS`, value: g.mb, baseline: null, ratio: null, unit: 'MB' });
  }
  if (ns.length > 1) {
    const [a, b] = [got.get(ns[0]), got.get(ns.at(-1))];
    rows.push(...growthRows('inbox', [ns[0], ns.at(-1)], { ...a, cpuMs: a.cpu }, { ...b, cpuMs: b.cpu }));
  }
  const note = `N = ${ns.join(', ')}; ${ctx.runs} run(s) each (medians); load (1-min avg) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}, ${os.cpus().length} CPU`;
  return { rows, note };
}
