// SNMP benchmark: one watch-faults pass and one collect-counters pass over a fleet of
// simulated printers served by snmpsim (scripts/testbed/make-printer-fleet.sh), each
// against a raw net-snmp concurrent poll sending the same PDUs (same OIDs, same
// concurrency and session settings), plus the naive GET-then-walk fault poll for scale.
// Goal: ratio ≤ 1.3 and under 3 s for 200 devices. The agent (one Python snmpsimd) is
// the bottleneck, so wall times follow the machine's load; the log lines also give this
// process's CPU time, which the load does not blur.
//
//   npm run bench -- snmp            (scripts/bench.mjs calls run(ctx) below)
//   import { runSnmpBench } from './bench/snmp.js'   → { name, seconds, baselineSeconds, ratio, peakRssMb }[]
//   standalone: npx tsc -p bench/tsconfig.json && node .bench/dist/bench/snmp.js [DEVICES] [ROUNDS]
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
  log?: (line: string) => void;
}

const TIMEOUT_MS = 3000;
const RETRIES = 1;

export async function runSnmpBench(options: SnmpBenchOptions = {}): Promise<BenchRow[]> {
  const n = options.devices ?? 200;
  const concurrency = options.concurrency ?? 50;
  const rounds = options.rounds ?? 3;
  const log = options.log ?? (() => {});
  const scripts = findScripts();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-bench-snmp-'));
  fs.chmodSync(base, 0o755);
  const simDir = path.join(base, 'snmpsim');
  const dataDir = path.join(simDir, 'data');
  const port = await freeUdpPort();
  execFileSync(path.join(scripts, 'make-printer-fleet.sh'), [dataDir, String(n)]);
  execFileSync(path.join(scripts, 'start-snmpsim.sh'), [simDir, dataDir], {
    env: { ...process.env, SNMPSIM_PORT: String(port) },
    stdio: 'ignore',
  });
  const db = openDb(path.join(base, 'state'));
  try {
    const community = (i: number) => `printer-${String(i).padStart(3, '0')}`;
    for (let i = 1; i <= n; i++) {
      addDevice(db, { id: community(i), driver: 'snmp', config: { address: '127.0.0.1', port, version: '2c', community: community(i) } });
    }
    const devices = listDevices(db);
    const drivers = { snmp: createSnmpDriver({ timeoutMs: TIMEOUT_MS, retries: RETRIES, maxConcurrent: concurrency }) };
    // snmpsim indexes each data file on first use, and the first watch pass has no hint
    // from a previous poll: warm both up before timing (steady state is what cron sees)
    await rawPoll(devices, concurrency, rawFaultsNaive);
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
        t.watchNaive.push(await time(() => rawPoll(devices, concurrency, rawFaultsNaive)));
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
        `round ${r + 1}: watch ${f(t.watch)} s (raw same PDUs ${f(t.watchRaw)}, raw GET+walk ${f(t.watchNaive)}), ` +
          `collect ${f(t.collect)} s (raw ${f(t.collectRaw)}); CPU of this process: watch ${cpuWatch.toFixed(3)} s ` +
          `(raw ${cpuWatchRaw.toFixed(3)}), collect ${cpuCollect.toFixed(3)} s (raw ${cpuCollectRaw.toFixed(3)}); load ${os.loadavg()[0]?.toFixed(1)}`,
      );
    }
    return [
      row(`snmp watch-faults pass, ${n} devices (vs raw net-snmp, same PDUs)`, t.watch, t.watchRaw, peak),
      row(`snmp watch-faults pass, ${n} devices (vs raw net-snmp GET + alert-table walk)`, t.watch, t.watchNaive, peak),
      row(`snmp collect-counters pass, ${n} devices (vs raw net-snmp, same PDUs)`, t.collect, t.collectRaw, peak),
    ];
  } finally {
    db.close();
    execFileSync(path.join(scripts, 'stop-snmpsim.sh'), [simDir]);
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

export const title = 'snmp: watch-faults and collect-counters passes over snmpsim printers';

/** scripts/bench.mjs entry: rows { name, value, baseline, ratio, unit, goal }. */
export async function run(ctx: { runs: number; log: (line: string) => void }) {
  const rows = await runSnmpBench({ rounds: ctx.runs, log: ctx.log });
  const naive = (r: BenchRow) => r.name.includes('GET + alert-table walk');
  return {
    note: `medians of ${ctx.runs} rounds, 200 printers on one snmpsimd, concurrency 50; baselines are plain net-snmp sessions`,
    rows: [
      ...rows.map((r) => ({
        name: `${r.name}: time`,
        value: r.seconds * 1000,
        baseline: r.baselineSeconds * 1000,
        ratio: r.ratio,
        unit: 'ms',
        ...(naive(r) ? {} : { goal: { on: 'ratio', max: 1.3, text: '≤ 1.3× raw net-snmp' } }),
      })),
      ...rows
        .filter((r) => !naive(r))
        .map((r) => ({
          name: `${r.name}: wall time`,
          value: r.seconds * 1000,
          baseline: null,
          ratio: null,
          unit: 'ms',
          goal: { on: 'value', max: 3000, text: '< 3 s' },
        })),
      { name: 'snmp passes: peak RSS', value: Math.max(...rows.map((r) => r.peakRssMb)), baseline: null, ratio: null, unit: 'MB' },
    ],
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const rows = await runSnmpBench({
    devices: Number(process.argv[2] ?? 200),
    rounds: Number(process.argv[3] ?? 3),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.table(rows);
  console.log(JSON.stringify(rows));
}
