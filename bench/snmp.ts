// SNMP benchmark: one watch-faults pass and one collect-counters pass over a fleet of
// simulated printers served by snmpsim (scripts/testbed/make-printer-fleet.sh), each
// against a raw net-snmp concurrent poll sending the same PDUs (same OIDs, same
// concurrency and session settings), plus the naive GET-then-walk fault poll for scale.
// Goals: ratio ≤ 1.3 and under 3 s for 200 devices (one snmpsimd); for a big site of
// 2,000 devices (issue 16 §5) ratio ≤ 1.0, under 5 s and peak RSS under 150 MB, the
// printers split over BENCH_SNMP_SIMULATORS (default 4) snmpsimd processes, since one
// single-threaded Python snmpsimd is the bottleneck. The agents are the bottleneck, so
// wall times follow the machine's load; the log lines also give this process's CPU time,
// which the load does not blur.
//
//   npm run bench -- snmp            (scripts/bench.mjs calls run(ctx) below)
//   import { runSnmpBench } from './bench/snmp.js'   → { name, seconds, baselineSeconds, ratio, peakRssMb }[]
//   standalone: npx tsc -p bench/tsconfig.json && node .bench/dist/bench/snmp.js [DEVICES] [ROUNDS] [SIMULATORS]
// Needs root and snmpsim (scripts/testbed/install-deps.sh).
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import snmp from 'net-snmp';
import {
  addDevice,
  COUNTER_PROBES,
  COUNTER_SOURCES,
  collectCountersPass,
  createSnmpDriver,
  type DeviceRecord,
  listDevices,
  TABLE_REPETITIONS,
  watchFaultsPass,
} from '../src/core/devices/index.js';
import { openDb } from '../src/core/store/db.js';

export interface BenchRow {
  name: string;
  seconds: number;
  baselineSeconds: number;
  ratio: number;
  peakRssMb: number;
}

export interface SnmpBenchOptions {
  devices?: number;
  concurrency?: number;
  rounds?: number;
  /** snmpsimd processes sharing the fleet (device i on simulator i mod N, each on its own port; default 1). */
  simulators?: number;
  /** Also time the naive GET-then-walk fault poll (default true). */
  naive?: boolean;
  log?: (line: string) => void;
}

const TIMEOUT_MS = 3000;
const RETRIES = 1;

/** N printers split over `simulators` snmpsimd processes on loopback, each on its own free port. */
async function startFleet(base: string, n: number, simulators: number, scripts: string) {
  const fleet = path.join(base, 'fleet');
  execFileSync(path.join(scripts, 'make-printer-fleet.sh'), [fleet, String(n)]);
  const sims: Array<{ dir: string; port: number }> = [];
  for (let k = 0; k < simulators; k++) {
    const dir = path.join(base, `snmpsim-${k}`);
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    sims.push({ dir, port: await freeUdpPort() });
  }
  const community = (i: number) => `printer-${String(i).padStart(3, '0')}`;
  const placed = Array.from({ length: n }, (_, j) => {
    const sim = sims[j % simulators] as { dir: string; port: number };
    const name = community(j + 1);
    fs.renameSync(path.join(fleet, `${name}.snmprec`), path.join(sim.dir, 'data', `${name}.snmprec`));
    return { community: name, port: sim.port };
  });
  const started: string[] = [];
  const stop = () => {
    for (const dir of started) execFileSync(path.join(scripts, 'stop-snmpsim.sh'), [dir]);
  };
  try {
    for (const sim of sims) {
      execFileSync(path.join(scripts, 'start-snmpsim.sh'), [sim.dir, path.join(sim.dir, 'data')], {
        env: { ...process.env, SNMPSIM_PORT: String(sim.port) },
        stdio: 'ignore',
      });
      started.push(sim.dir);
    }
  } catch (error) {
    stop();
    throw error;
  }
  return { placed, stop };
}

export async function runSnmpBench(options: SnmpBenchOptions = {}): Promise<BenchRow[]> {
  const n = options.devices ?? 200;
  const concurrency = options.concurrency ?? 50;
  const rounds = options.rounds ?? 3;
  const naive = options.naive ?? true;
  const log = options.log ?? (() => {});
  const scripts = findScripts();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-bench-snmp-'));
  fs.chmodSync(base, 0o755);
  const fleet = await startFleet(base, n, Math.max(1, options.simulators ?? 1), scripts).catch((error) => {
    fs.rmSync(base, { recursive: true, force: true });
    throw error;
  });
  // opened inside the try: a store that cannot open must still stop the snmpsimd processes
  let opened: ReturnType<typeof openDb> | undefined;
  try {
    const db = openDb(path.join(base, 'state'));
    opened = db;
    for (const { community, port } of fleet.placed) {
      addDevice(db, { id: community, driver: 'snmp', config: { address: '127.0.0.1', port, version: '2c', community } });
    }
    const devices = listDevices(db);
    const drivers = { snmp: createSnmpDriver({ timeoutMs: TIMEOUT_MS, retries: RETRIES, maxConcurrent: concurrency }) };
    // snmpsim indexes each data file on first use, and the first watch pass has no hint
    // from a previous poll: warm both up before timing (steady state is what cron sees)
    await rawPoll(devices, concurrency, naive ? rawFaultsNaive : rawFaults);
    await rawPoll(devices, concurrency, rawCounters);
    await watchFaultsPass(db, devices, { drivers, concurrency });

    const t = {
      watch: [] as number[],
      watchRaw: [] as number[],
      watchNaive: [] as number[],
      collect: [] as number[],
      collectRaw: [] as number[],
    };
    let peak = 0;
    const cpu = { watch: 0, watchRaw: 0, collect: 0, collectRaw: 0 };
    const steps = {
      watchRaw: async () => {
        t.watchRaw.push(await time(() => rawPoll(devices, concurrency, rawFaults)));
        cpu.watchRaw = lastCpu;
      },
      watchNaive: async () => {
        if (naive) t.watchNaive.push(await time(() => rawPoll(devices, concurrency, rawFaultsNaive)));
      },
      watch: async () => {
        const w = await measured(async () => {
          const result = await watchFaultsPass(db, devices, { drivers, concurrency });
          if (result.failed > 0) throw new Error(`watch-faults: ${result.failed} devices failed`);
        });
        t.watch.push(w.seconds);
        cpu.watch = lastCpu;
        peak = Math.max(peak, w.peakRssMb);
      },
      collectRaw: async () => {
        t.collectRaw.push(await time(() => rawPoll(devices, concurrency, rawCounters)));
        cpu.collectRaw = lastCpu;
      },
      collect: async () => {
        const c = await measured(async () => {
          const result = await collectCountersPass(db, devices, { drivers, concurrency });
          if (result.failures.length > 0) throw new Error(`collect-counters: ${result.failures.length} devices failed`);
        });
        t.collect.push(c.seconds);
        cpu.collect = lastCpu;
        peak = Math.max(peak, c.peakRssMb);
      },
    };
    for (let r = 0; r < rounds; r++) {
      // alternate who goes first, so that neither side always meets a warmer agent
      const order =
        r % 2 === 0
          ? (['watchRaw', 'watchNaive', 'watch', 'collectRaw', 'collect'] as const)
          : (['watch', 'watchNaive', 'watchRaw', 'collect', 'collectRaw'] as const);
      for (const step of order) await steps[step]();
      const { watch: cpuWatch, watchRaw: cpuWatchRaw, collect: cpuCollect, collectRaw: cpuCollectRaw } = cpu;
      const f = (x: number[]) => x.at(-1)?.toFixed(3);
      log(
        `round ${r + 1}, ${n} devices: watch ${f(t.watch)} s (raw same PDUs ${f(t.watchRaw)}, raw GET+walk ${f(t.watchNaive) ?? '-'}), ` +
          `collect ${f(t.collect)} s (raw ${f(t.collectRaw)}); CPU of this process: watch ${cpuWatch.toFixed(3)} s ` +
          `(raw ${cpuWatchRaw.toFixed(3)}), collect ${cpuCollect.toFixed(3)} s (raw ${cpuCollectRaw.toFixed(3)}); load ${os.loadavg()[0]?.toFixed(1)}`,
      );
    }
    return [
      row(`snmp watch-faults pass, ${n} devices (vs raw net-snmp, same PDUs)`, t.watch, t.watchRaw, peak),
      ...(naive ? [row(`snmp watch-faults pass, ${n} devices (vs raw net-snmp GET + alert-table walk)`, t.watch, t.watchNaive, peak)] : []),
      row(`snmp collect-counters pass, ${n} devices (vs raw net-snmp, same PDUs)`, t.collect, t.collectRaw, peak),
    ];
  } finally {
    opened?.close();
    fleet.stop();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

function row(name: string, ours: number[], baseline: number[], peakRssMb: number): BenchRow {
  const seconds = median(ours);
  const baselineSeconds = median(baseline);
  return {
    name,
    seconds: round(seconds),
    baselineSeconds: round(baselineSeconds),
    ratio: round(seconds / baselineSeconds),
    peakRssMb: Math.round(peakRssMb),
  };
}

// ---- the raw baseline: plain net-snmp, same OIDs, same concurrency ------------------------

type Session = ReturnType<typeof snmp.createSession>;
const get = (s: Session, oids: string[]) => new Promise<unknown[]>((res, rej) => s.get(oids, (e, v) => (e ? rej(e) : res(v ?? []))));
const walk = (s: Session, oid: string) =>
  new Promise<unknown[]>((res, rej) => {
    const out: unknown[] = [];
    s.subtree(
      oid,
      20,
      (vbs) => void out.push(...vbs),
      (e) => (e ? rej(e) : res(out)),
    );
  });

const FAULT_COLUMNS = ['1.3.6.1.2.1.25.3.2.1.5', '1.3.6.1.2.1.25.3.5.1.1', '1.3.6.1.2.1.25.3.5.1.2', '1.3.6.1.2.1.43.5.1.1.19'];
const ALERT_TABLE = '1.3.6.1.2.1.43.18.1.1';

/** What pollFaults sends in steady state (empty alert table last time): one GETBULK. */
async function rawFaults(s: Session): Promise<void> {
  await new Promise<unknown>((res, rej) =>
    s.getBulk([...FAULT_COLUMNS, ALERT_TABLE], FAULT_COLUMNS.length, 1, (e, v) => (e ? rej(e) : res(v))),
  );
}

/** How a poller without the alert-table hint reads the same data: a GET, then a walk. */
async function rawFaultsNaive(s: Session): Promise<void> {
  await get(
    s,
    FAULT_COLUMNS.map((c) => `${c}.1`),
  );
  await walk(s, ALERT_TABLE);
}

/** What readCounters sends: one GETNEXT of identity + source probes, one GETBULK of the tables found. */
async function rawCounters(s: Session): Promise<void> {
  const probe = await new Promise<Array<{ oid: string }>>((res, rej) =>
    s.getNext([...COUNTER_PROBES], (e, v) => (e ? rej(e) : res(v ?? []))),
  );
  const offset = COUNTER_PROBES.length - COUNTER_SOURCES.length;
  const tables = COUNTER_SOURCES.filter(({ probe: root }, i) => probe[offset + i]?.oid.startsWith(`${root}.`)).flatMap((x) => x.tables);
  if (tables.length === 0) return;
  await new Promise<unknown>((res, rej) => s.getBulk(tables, 0, TABLE_REPETITIONS, (e, v) => (e ? rej(e) : res(v))));
}

async function rawPoll(devices: readonly DeviceRecord[], concurrency: number, poll: (s: Session) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < devices.length) {
        const device = devices[next++] as DeviceRecord & { driver: 'snmp' };
        const s = snmp.createSession('127.0.0.1', device.config.community ?? 'public', {
          port: device.config.port,
          version: snmp.Version2c,
          timeout: TIMEOUT_MS,
          retries: RETRIES,
        });
        try {
          await poll(s);
        } finally {
          s.close();
        }
      }
    }),
  );
}

// ---- measuring ----------------------------------------------------------------------------

/** CPU seconds (user + system) of this process in the last timed run: overhead that a busy machine does not blur. */
let lastCpu = 0;
async function time(fn: () => Promise<void>): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  lastCpu = (cpu.user + cpu.system) / 1e6;
  return (performance.now() - t0) / 1000;
}

async function measured(fn: () => Promise<void>): Promise<{ seconds: number; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    const seconds = await time(fn);
    peak = Math.max(peak, process.memoryUsage().rss);
    return { seconds, peakRssMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round = (x: number) => Math.round(x * 1000) / 1000;

async function freeUdpPort(): Promise<number> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

/** scripts/testbed/, found upward from this file (works from bench/ and from a build dir). */
function findScripts(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'scripts', 'testbed');
    if (fs.existsSync(path.join(candidate, 'start-snmpsim.sh'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('bench/snmp: scripts/testbed/ not found');
    dir = up;
  }
}

export const title = 'snmp: watch-faults and collect-counters passes over snmpsim printers, 200 and 2,000 devices';

/** The two site sizes of one run: today's 200 printers on one snmpsimd, and a big site (issue 16 §5). */
const SITES = [
  { devices: 200, simulators: 1, naive: true, ratio: 1.3, seconds: 3, wallOf: /./, rssMb: undefined },
  // the goal for a big site: the watch-faults pass under 5 s; collect-counters on ratio only
  { devices: 2000, simulators: bigSimulators(), naive: false, ratio: 1.0, seconds: 5, wallOf: /watch-faults/, rssMb: 150 },
] as const;

/** snmpsimd processes for the 2,000 printers: one single-threaded Python agent is the bottleneck there. */
function bigSimulators(): number {
  const n = Number.parseInt(process.env.BENCH_SNMP_SIMULATORS ?? '4', 10);
  return Number.isInteger(n) && n >= 1 ? n : 4;
}

/** scripts/bench.mjs entry: rows { name, value, baseline, ratio, unit, goal }. */
export async function run(ctx: { runs: number; log: (line: string) => void }) {
  const rows: object[] = [];
  const loads: string[] = [];
  for (const site of SITES) {
    const got = await runSnmpBench({
      devices: site.devices,
      simulators: site.simulators,
      naive: site.naive,
      rounds: ctx.runs,
      log: ctx.log,
    });
    loads.push(`${site.devices}: ${os.loadavg()[0]?.toFixed(1)}`);
    rows.push(...siteRows(got, site));
  }
  const sims = SITES.map((s) => `${s.devices} printers on ${s.simulators} snmpsimd${s.simulators > 1 ? ' processes (one port each)' : ''}`);
  return {
    note:
      `medians of ${ctx.runs} rounds, ${sims.join(', ')}, concurrency 50, timeout ${TIMEOUT_MS} ms, ${RETRIES} retry; ` +
      `baselines are plain net-snmp sessions (one per device) sending the same PDUs to the same devices; ` +
      `peak RSS is this process's (the passes run in it); 1-min load after each size ${loads.join(', ')}`,
    rows,
  };
}

function siteRows(rows: BenchRow[], site: (typeof SITES)[number]) {
  const naive = (r: BenchRow) => r.name.includes('GET + alert-table walk');
  const rss = Math.max(...rows.map((r) => r.peakRssMb));
  return [
    ...rows.map((r) => ({
      name: `${r.name}: time`,
      value: r.seconds * 1000,
      baseline: r.baselineSeconds * 1000,
      ratio: r.ratio,
      unit: 'ms',
      ...(naive(r) ? {} : { goal: { on: 'ratio', max: site.ratio, text: `≤ ${site.ratio.toFixed(1)}× raw net-snmp` } }),
    })),
    ...rows
      .filter((r) => !naive(r) && site.wallOf.test(r.name))
      .map((r) => ({
        name: `${r.name}: wall time`,
        value: r.seconds * 1000,
        baseline: null,
        ratio: null,
        unit: 'ms',
        goal: { on: 'value', max: site.seconds * 1000, text: `< ${site.seconds} s` },
      })),
    {
      name: `snmp passes, ${site.devices} devices: peak RSS`,
      value: rss,
      baseline: null,
      ratio: null,
      unit: 'MB',
      ...(site.rssMb ? { goal: { on: 'value', max: site.rssMb, text: `< ${site.rssMb} MB` } } : {}),
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const rows = await runSnmpBench({
    devices: Number(process.argv[2] ?? 200),
    rounds: Number(process.argv[3] ?? 3),
    simulators: Number(process.argv[4] ?? 1),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.table(rows);
  console.log(JSON.stringify(rows));
}
