#!/usr/bin/env node
// `npm run bench [-- SECTION ...] [-- --json]`: performance figures of rds next to their
// baselines and goals, every section in ONE run, printed side by side.
//
// Sections live in bench/ (files starting with `_` are helpers, not sections). A section
// exports `async function run(ctx)` returning rows, or `{ rows, note }`; a row is
//   { name, value, baseline, ratio, unit, goal? }
//   unit: 'ms' | 'MB' | any label; value/baseline/ratio: numbers or null ("n/a")
//   goal: { on: 'ratio' | 'value', max: number, text: '≤ 1.2× GnuPG' } (or a bare string, shown only)
// and may export `title`. Compatibility: a module with no `run` but one exported
// `run…Bench(options)` function (bench/snmp.ts's `runSnmpBench`) is called with
// `{ rounds: runs, log }`, and its rows `{ name, seconds, baselineSeconds, ratio, peakRssMb }`
// are shown as a time row and a peak-RSS row; prefer `run(ctx)` in new sections.
// ctx = { root, bin, runs, tmp, log }: `tmp` is a fresh folder
// removed after the section, `runs` is BENCH_RUNS (default 3), `log` writes progress to
// stderr; measuring helpers are in bench/_lib.mjs (median, measure, measurePipeline,
// compare).
//
// Sections in TypeScript: Node 20 cannot run .ts, so bench/*.ts is compiled with tsc
// (bench/tsconfig.json: bench/ plus the src/ files it imports) into .bench/dist/, and the
// compiled file is imported; an .mjs section is imported as is. Order: SECTION_ORDER first,
// then any other section alphabetically.
//
// dist/ is built first when it is missing or older than src/ (the CLI under test runs
// from dist/). Exit status: 0 when every section ran (missed goals are shown, not fatal),
// 1 when a section failed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SECTION_ORDER = ['package', 'startup', 'mail', 'snmp'];

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const argv = process.argv.slice(2);
const json = argv.includes('--json');
const only = argv.filter((a) => !a.startsWith('--'));
const runs = Math.max(1, Number.parseInt(process.env.BENCH_RUNS ?? '3', 10) || 3);
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

function newest(dir) {
  if (!fs.existsSync(dir)) return 0;
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, fs.statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return t;
}

/** tsc with `args`; its exit status is not decisive (other folders may not type-check yet): the outputs are. */
function compile(args, mustExist) {
  const r = spawnSync(process.execPath, [tsc, ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0)
    log(`tsc ${args.join(' ')} reported errors (emitting anyway):\n${(r.stdout + r.stderr).trim().split('\n').slice(0, 5).join('\n')}`);
  for (const f of mustExist) if (!fs.existsSync(f)) throw new Error(`build failed: ${f} is missing`);
}

function ensureDist() {
  const cli = path.join(root, 'dist', 'cli.js');
  if (fs.existsSync(cli) && newest(path.join(root, 'dist')) >= newest(path.join(root, 'src'))) return;
  log('building dist/ (tsc -p tsconfig.build.json)');
  compile(['-p', 'tsconfig.build.json'], [cli]);
}

function discoverSections() {
  const dir = path.join(root, 'bench');
  const files = fs.readdirSync(dir).filter((f) => /^[^_.].*\.(mjs|ts)$/.test(f) && !f.endsWith('.d.ts'));
  const byName = new Map();
  for (const f of files) {
    const name = f.replace(/\.(mjs|ts)$/, '');
    if (byName.has(name)) throw new Error(`bench/${name}: both .mjs and .ts exist`);
    byName.set(name, path.join(dir, f));
  }
  const names = [...byName.keys()].sort((a, b) => {
    const ia = SECTION_ORDER.indexOf(a);
    const ib = SECTION_ORDER.indexOf(b);
    return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || a.localeCompare(b);
  });
  return names.filter((n) => only.length === 0 || only.includes(n)).map((name) => ({ name, file: byName.get(name) }));
}

function compileTsSections(sections) {
  const ts = sections.filter((s) => s.file.endsWith('.ts'));
  if (ts.length === 0) return;
  log(`compiling ${ts.map((s) => `bench/${s.name}.ts`).join(', ')} into .bench/dist/`);
  compile(
    ['-p', 'bench/tsconfig.json'],
    ts.map((s) => path.join(root, '.bench', 'dist', 'bench', `${s.name}.js`)),
  );
  for (const s of ts) s.file = path.join(root, '.bench', 'dist', 'bench', `${s.name}.js`);
}

/** The section's entry point, `run(ctx)`, or an adapter around a `run…Bench(options)`. */
function entryOf(mod, name) {
  if (typeof mod.run === 'function') return mod.run;
  const legacy = Object.entries(mod).find(([k, v]) => typeof v === 'function' && /^run\w*Bench$/.test(k));
  if (!legacy) throw new Error(`bench/${name} exports neither run(ctx) nor run…Bench(options)`);
  return async (ctx) => {
    const got = await legacy[1]({ rounds: ctx.runs, log: ctx.log });
    return {
      note: `via ${legacy[0]}(); medians of ${ctx.runs} rounds`,
      rows: got.flatMap((r) =>
        'seconds' in r
          ? [
              {
                name: `${r.name}: time`,
                value: r.seconds * 1000,
                baseline: r.baselineSeconds * 1000,
                ratio: r.ratio,
                unit: 'ms',
                goal: r.goal,
              },
              ...(r.peakRssMb === undefined
                ? []
                : [{ name: `${r.name}: peak RSS`, value: r.peakRssMb, baseline: null, ratio: null, unit: 'MB' }]),
            ]
          : [r],
      ),
    };
  };
}

// ---- formatting ---------------------------------------------------------------------
function fmt(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  if (unit === 'ms') return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`;
  if (unit === 'MB') return `${v.toFixed(1)} MB`;
  return `${Number(v.toPrecision(4))} ${unit ?? ''}`.trim();
}

function status(row) {
  const g = row.goal;
  if (!g || typeof g === 'string') return '';
  const v = g.on === 'value' ? row.value : row.ratio;
  if (v === null || v === undefined) return '?';
  return v <= g.max ? 'ok' : 'MISS';
}

function table(rows) {
  const head = ['section', 'figure', 'rds', 'baseline', 'ratio', 'goal', ''];
  const body = rows.map((r) => [
    r.section,
    r.name,
    fmt(r.value, r.unit),
    fmt(r.baseline, r.unit),
    r.ratio === null || r.ratio === undefined ? 'n/a' : `${r.ratio.toFixed(2)}×`,
    typeof r.goal === 'string' ? r.goal : (r.goal?.text ?? '-'),
    status(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => [...b[i]].length)));
  const right = new Set([2, 3, 4]);
  const line = (cells) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

// ---- main ---------------------------------------------------------------------------
async function main() {
  ensureDist();
  const sections = discoverSections();
  if (sections.length === 0) throw new Error(`no section matches ${only.join(', ')}`);
  compileTsSections(sections);
  const { rssTool } = await import('../bench/_lib.mjs');
  const tool = rssTool();
  const load = os.loadavg().map((l) => l.toFixed(1));
  const busy = os.loadavg()[0] > os.cpus().length ? ' (machine busy: figures are noisy)' : '';
  const header = [
    `rds bench: ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} CPU (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GB, load ${load.join(' ')}${busy}`,
    `medians of BENCH_RUNS=${runs} runs (start-up: ${process.env.BENCH_STARTUP_RUNS ?? 15}); goals are on wall time; peak RSS and CPU by ${tool === 'gnu-time' ? 'GNU time (/usr/bin/time -f "%M %U %S")' : 'process.resourceUsage().maxRSS via bench/_maxrss.mjs (node commands only; `apt-get install -y time` for the baselines)'}`,
  ];
  const rows = [];
  const notes = [];
  let failed = 0;
  for (const s of sections) {
    const mod = await import(pathToFileURL(s.file).href);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `rds-bench-${s.name}-`));
    const ctx = { root, bin: path.join(root, 'bin', 'rds.js'), runs, tmp, log: (m) => log(`[${s.name}] ${m}`) };
    const t0 = performance.now();
    try {
      ctx.log(mod.title ?? s.name);
      const result = await entryOf(mod, s.name)(ctx);
      const got = Array.isArray(result) ? result : (result?.rows ?? []);
      for (const r of got) rows.push({ section: s.name, ...r });
      if (result?.note) notes.push(`${s.name}: ${result.note}`);
      ctx.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (error) {
      failed++;
      notes.push(`${s.name}: FAILED: ${(error?.stack ?? String(error)).split('\n').slice(0, 6).join('\n  ')}`);
      log(`[${s.name}] failed: ${error?.stack ?? error}`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ header, runs, rssTool: tool, rows: rows.map((r) => ({ ...r, status: status(r) })), notes }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`${header.join('\n')}\n\n${table(rows)}\n\n${notes.map((n) => `* ${n}`).join('\n')}\n`);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    log(error?.stack ?? String(error));
    process.exitCode = 1;
  },
);
