// The agent's small box (issue 13): what a cron-started pass costs in CPU when there is
// nothing to do, next to `node -e 0` (a new process each run, as cron starts them).
//   poll-mail     an empty `rds poll-mail` pass on the embedded backend (maildir://): no mail
//                 waits, nothing is queued
//   watch-faults  an `rds watch-faults` pass over one simulated device with nothing new (the
//                 day's heartbeat already sent, so nothing is signed or sent)
// CPU is user + system time of the process, to the millisecond (bash's `times` for its child:
// GNU time's centiseconds are too coarse next to the ~60 ms of `node -e 0`). Medians
// of BENCH_SMALLBOX_RUNS (default 15) runs each, alternating with the baseline after 2
// warm-up rounds; the load average is printed before and after (the figures are only as
// quiet as the machine). Goal: each pass ≤ 2× the CPU of `node -e 0`.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compare, exec, measure, rowOf } from './_lib.mjs';

export const title = 'small box: empty cron passes, CPU vs node -e 0';

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** A host and one agent on maildir://, the agent watching one simulated printer; its config file. */
function setUp(ctx) {
  const t = ctx.tmp;
  const rds = (...args) => [process.execPath, ctx.bin, ...args];
  const mail = `maildir://${path.join(t, 'mail')}`;
  const hostDir = path.join(t, 'host');
  exec(rds('init', '--role', 'host', '--id', 'HOST', '--address', 'host@bench.example', '--smtp', mail, '--imap', mail, '--dir', hostDir));
  const hostKey = JSON.parse(exec(rds('--json', '--config', path.join(hostDir, 'config.json'), 'keys', 'export')));
  fs.writeFileSync(path.join(t, 'host.asc'), hostKey.publicKey);
  const agentDir = path.join(t, 'agent');
  exec(
    rds(
      'init',
      '--role',
      'agent',
      '--id',
      'AGENT0001',
      '--address',
      'agent1@bench.example',
      '--host-address',
      'host@bench.example',
      '--host-key',
      path.join(t, 'host.asc'),
      '--smtp',
      mail,
      '--imap',
      mail,
      '--software-version',
      '1.0.00-1',
      '--dir',
      agentDir,
    ),
  );
  const config = path.join(agentDir, 'config.json');
  const sim = path.join(t, 'printers.json');
  const printer = { model: 'Sim', serial: 'S-1', status: 'running', reachable: true, faults: [] };
  fs.writeFileSync(sim, JSON.stringify({ format: 'rds-simulated-devices/1', devices: { printer1: printer } }));
  exec(rds('--config', config, 'devices', 'add', '--id', 'P1', '--driver', 'simulated', '--file', sim, '--name', 'printer1'));
  // the first pass sends the day's heartbeat; from then on a pass has nothing to say
  exec(rds('--config', config, 'watch-faults'));
  exec(rds('--config', config, 'poll-mail'));
  return config;
}

const TIMES = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/;

/** Run argv under bash and read its child's user + system time from `times`: {ms, cpuMs, rssKB: null, stdout}. */
function measureCpu(argv) {
  const script = '"$@"; rc=$?; printf "\\n@@times " >&2; times >&2; exit $rc';
  const t0 = performance.now();
  const child = spawn('bash', ['-c', script, 'bash', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const m = TIMES.exec(stderr.slice(stderr.lastIndexOf('@@times')));
      if (code !== 0 || !m) return reject(new Error(`${argv.join(' ')}: exit ${code}\n${stderr.slice(-2000)}`));
      const cpuMs = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
      resolve({ ms, cpuMs, rssKB: null, stdout });
    });
  });
}

async function pass(ctx, runs, config, command, expected) {
  const argv = [process.execPath, ctx.bin, '--config', config, command];
  const check = (got) => {
    if (!got.stdout.includes(expected)) throw new Error(`rds ${command}: expected '${expected}', got: ${got.stdout}`);
    return got;
  };
  const baseline = [process.execPath, '-e', '0'];
  const r = await compare(
    runs,
    async () => check(await measureCpu(argv)),
    () => measureCpu(baseline),
    { warmup: 2 },
  );
  const rss = await compare(
    3,
    async () => check(await measure(argv)),
    () => measure(baseline),
  );
  return [
    rowOf(`${command} (${command === 'poll-mail' ? 'empty pass' : 'one device, nothing new'}): CPU`, r, 'cpuMs', {
      on: 'ratio',
      max: 2,
      text: '≤ 2× node -e 0',
    }),
    rowOf(`${command}: time`, r, 'ms'),
    rowOf(`${command}: peak RSS (3 runs)`, rss, 'rssKB'),
  ];
}

export async function run(ctx) {
  const runs = Number(process.env.BENCH_SMALLBOX_RUNS ?? 15);
  ctx.log('setting up a host and an agent with one simulated printer (maildir://)');
  const config = setUp(ctx);
  const before = load();
  ctx.log(`${runs} runs each (+2 warm-up), alternating with node -e 0; load ${before}`);
  const rows = [
    ...(await pass(ctx, runs, config, 'poll-mail', 'no mail')),
    ...(await pass(ctx, runs, config, 'watch-faults', '1 device(s) polled, nothing new')),
  ];
  return { note: `${runs} runs each; ${process.version}; load before ${before}, after ${load()}`, rows };
}
