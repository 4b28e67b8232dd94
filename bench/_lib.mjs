// Shared helpers for bench sections (files starting with `_` are not sections).
// Measuring: wall time from spawn to exit (performance.now) and peak RSS, the latter from
// GNU time (`/usr/bin/time -f '%M %U %S'`: KB, user s, system s) when installed, else, for node commands only, from
// the child's own process.resourceUsage().maxRSS through bench/_maxrss.mjs.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const GNU_TIME = '/usr/bin/time';
const MAXRSS_WRAPPER = fileURLToPath(new URL('./_maxrss.mjs', import.meta.url));

/** 'gnu-time' or 'node-wrapper' (BENCH_RSS_TOOL=node-wrapper forces the fallback). */
/** A TCP port free on loopback right now (for a server the bench starts). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function rssTool() {
  if (process.env.BENCH_RSS_TOOL === 'node-wrapper') return 'node-wrapper';
  const r = spawnSync(GNU_TIME, ['-f', '%M %U %S', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /^\d+ [\d.]+ [\d.]+\s*$/.test(r.stderr) ? 'gnu-time' : 'node-wrapper';
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** GNU time's `-f '%M %U %S'` line (or the wrapper's `KB`): { rssKB, cpuMs }. */
function readUsage(file) {
  try {
    const [kb, user, sys] = fs.readFileSync(file, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    return {
      rssKB: Number.isFinite(kb) ? kb : null,
      cpuMs: Number.isFinite(user) && Number.isFinite(sys) ? (user + sys) * 1000 : null,
    };
  } catch {
    return { rssKB: null, cpuMs: null };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function collect(child, label) {
  let stderr = '';
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (d) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) reject(new Error(`${label}: exit ${code ?? signal}\n${stderr.slice(-2000)}`));
      else resolve({ stdout, stderr });
    });
  });
}

let seq = 0;
const rssFile = () => path.join(os.tmpdir(), `rds-bench-rss-${process.pid}-${++seq}`);

/**
 * Run argv once; resolve {ms, rssKB, cpuMs, stdout, stderr}. rssKB is null when it cannot
 * be measured (no GNU time and not a node command), cpuMs (user + system) without GNU
 * time. Rejects on a non-zero exit.
 */
export async function measure(argv, { cwd, env, tool = rssTool() } = {}) {
  const out = rssFile();
  let cmd = argv;
  let childEnv = env ?? process.env;
  if (tool === 'gnu-time') cmd = [GNU_TIME, '-f', '%M %U %S', '-o', out, ...argv];
  else if (argv[0] === process.execPath || argv[0] === 'node') {
    cmd = [argv[0], MAXRSS_WRAPPER, ...argv.slice(1)];
    childEnv = { ...childEnv, BENCH_RSS_OUT: out };
  }
  const t0 = performance.now();
  const child = spawn(cmd[0], cmd.slice(1), { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const { stdout, stderr } = await collect(child, argv.join(' ')).catch((error) => {
    fs.rmSync(out, { force: true });
    throw error;
  });
  const ms = performance.now() - t0;
  const usage = fs.existsSync(out) ? readUsage(out) : { rssKB: null, cpuMs: null };
  return { ms, ...usage, stdout, stderr };
}

const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * Run a shell pipeline of argv stages (`a | b | c`) under bash -o pipefail; rssKB is the
 * SUM of the stages' peaks (they run at the same time) and cpuMs the sum of their CPU
 * time, both null without GNU time.
 */
export async function measurePipeline(stages, { cwd, env, tool = rssTool() } = {}) {
  const files = stages.map(() => rssFile());
  const line = stages
    .map((argv, i) => (tool === 'gnu-time' ? [GNU_TIME, '-f', '%M %U %S', '-o', files[i], ...argv] : argv).map(q).join(' '))
    .join(' | ');
  const t0 = performance.now();
  const child = spawn('bash', ['-o', 'pipefail', '-c', line], { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const { stdout, stderr } = await collect(child, line).catch((error) => {
    for (const f of files) fs.rmSync(f, { force: true });
    throw error;
  });
  const ms = performance.now() - t0;
  const usage = files.map((f) => (fs.existsSync(f) ? readUsage(f) : { rssKB: null, cpuMs: null }));
  const sum = (key) => (usage.every((u) => u[key] !== null) ? usage.reduce((a, u) => a + u[key], 0) : null);
  return { ms, rssKB: sum('rssKB'), cpuMs: sum('cpuMs'), stdout, stderr };
}

/** Run argv to completion, unmeasured; throw with its stderr on failure. */
export function exec(argv, { cwd, env, input } = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env: env ?? process.env, encoding: 'utf8', input, maxBuffer: 64 * 2 ** 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status ?? r.signal}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Run `a` and `b` alternately `runs` times after `warmup` unmeasured rounds (so neither
 * side profits from going second), with `before` run ahead of each (unmeasured).
 */
export async function compare(runs, a, b, { warmup = 1, before = async () => {} } = {}) {
  const results = { a: [], b: [] };
  for (let i = 0; i < warmup + runs; i++) {
    const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    for (const side of order) {
      await before(side);
      const r = await (side === 'a' ? a() : b());
      if (i >= warmup) results[side].push(r);
    }
  }
  const summary = (rs) => ({
    ms: median(rs.map((r) => r.ms)),
    rssKB: rs.some((r) => r.rssKB === null) ? null : median(rs.map((r) => r.rssKB)),
    cpuMs: rs.some((r) => r.cpuMs === null || r.cpuMs === undefined) ? null : median(rs.map((r) => r.cpuMs)),
    all: rs.map((r) => Math.round(r.ms)),
  });
  return { a: summary(results.a), b: summary(results.b) };
}

export const ratio = (value, baseline) => (value === null || baseline === null || baseline === 0 ? null : value / baseline);
export const toMB = (kb) => (kb === null ? null : kb / 1024);

/**
 * One table row from compare()'s {a, b}: `what` is 'ms' (wall time), 'cpuMs' (user+sys)
 * or 'rssKB' (shown in MB).
 */
export function rowOf(name, { a, b }, what, goal) {
  const scale = what === 'rssKB' ? toMB : (v) => v;
  const value = scale(a[what] ?? null);
  const baseline = scale(b[what] ?? null);
  return { name, value, baseline, ratio: ratio(value, baseline), unit: what === 'rssKB' ? 'MB' : 'ms', ...(goal ? { goal } : {}) };
}
