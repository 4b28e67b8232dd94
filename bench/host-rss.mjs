// Host memory (issues 13, 14): the host's peak RSS in the steps whose inputs grow, without
// the mail servers of bench/parts.mjs (for quick before/after figures while working on it):
//   push-all in parts   `rds push-all` of a BENCH_HOSTRSS_MB (200) MB package to
//                       BENCH_HOSTRSS_AGENTS (100) agents through a discard SMTP server
//                       (bench/_sink-smtp.mjs, SIZE 10240000), as bench/parts.mjs's RSS row
//                       (goal ≤ 200 MB); its time is shown, not judged (bench/parts.mjs
//                       compares the time with a raw nodemailer send over Postfix).
// Agent keys come from bench/scale.mjs's cache (made once). The load average is printed next
// to the figures.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exec, freePort, measure, median, toMB } from './_lib.mjs';
import { keyChunks } from './scale.mjs';

export const title = 'host memory: push-all of a package in parts through a discard SMTP server';

const DOMAIN = 'example.test';
const VERSION = '1.0.02-0';
const SIZE = 10_240_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function writeRandom(file, mb) {
  const fd = fs.openSync(file, 'w');
  for (let left = Math.round(mb * 2 ** 20); left > 0; left -= 4 * 2 ** 20) fs.writeSync(fd, randomBytes(Math.min(left, 4 * 2 ** 20)));
  fs.closeSync(fd);
}

function setUp(ctx, agents, mb, port) {
  const t = fs.mkdtempSync(path.join(ctx.tmp, 'run-'));
  const rds = (...args) => [process.execPath, ctx.bin, ...args];
  const hostDir = path.join(t, 'host');
  const hostAddress = `host@${DOMAIN}`;
  exec(
    rds(
      ...['init', '--role', 'host', '--id', 'HOST', '--address', hostAddress],
      ...['--smtp', `smtp://127.0.0.1:${port}?tls=off`, '--imap', `maildir://${path.join(t, 'mail')}`, '--dir', hostDir],
    ),
  );
  const host = (...args) => rds('--config', path.join(hostDir, 'config.json'), ...args);
  return { host, hostAddress, t, agents, mb };
}

async function register(ctx, s) {
  const chunks = await keyChunks(ctx, s.agents);
  const entries = [];
  for (const c of chunks) {
    JSON.parse(fs.readFileSync(c.file, 'utf8')).forEach((r, i) => {
      if (c.from + i <= s.agents)
        entries.push({ id: r.id, address: `agent${((c.from + i - 1) % 20) + 1}@${DOMAIN}`, key: r.publicArmored });
    });
  }
  const file = path.join(s.t, 'agents.json');
  fs.writeFileSync(file, JSON.stringify(entries));
  exec(s.host('agents', 'import', file));
  const work = path.join(s.t, 'work');
  fs.mkdirSync(work);
  writeRandom(path.join(work, 'big.bin'), s.mb);
  fs.writeFileSync(path.join(work, 'install.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const pkg = path.join(s.t, 'big.rdsu');
  exec(
    s.host(
      ...['pack-update', '--software-version', VERSION, '--script', path.join(work, 'install.sh')],
      ...['--module', `big.bin=1.0.00:${path.join(work, 'big.bin')}`, '-o', pkg],
    ),
  );
  fs.rmSync(work, { recursive: true });
  return pkg;
}

async function sinkRun(ctx, s, pkg, port) {
  const sink = spawn(process.execPath, [path.join(ctx.root, 'bench', '_sink-smtp.mjs'), String(port), String(SIZE)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  sink.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  for (let i = 0; i < 200 && !out.includes('ready'); i++) await sleep(50);
  try {
    const r = await measure(s.host('push-all', pkg));
    if (!r.stdout.includes(`sent to ${s.agents} of ${s.agents} agents`))
      throw new Error(`push-all (sink) did not send to all:\n${r.stdout.slice(0, 2000)}${r.stderr.slice(-2000)}`);
    const closed = new Promise((resolve) => sink.on('close', resolve));
    sink.kill('SIGTERM');
    await closed;
    return { ...r, ...JSON.parse(out.trim().split('\n').at(-1)) };
  } catch (error) {
    sink.kill('SIGKILL');
    throw error;
  }
}

export async function run(ctx) {
  const agents = Number(process.env.BENCH_HOSTRSS_AGENTS ?? 100);
  const mb = Number(process.env.BENCH_HOSTRSS_MB ?? 200);
  const runs = [];
  for (let i = 0; i < ctx.runs; i++) {
    const port = await freePort();
    const s = setUp(ctx, agents, mb, port); // a fresh host each run
    ctx.log(`run ${i + 1} of ${ctx.runs}: packing ${mb} MB, ${agents} agents registered, push-all through the sink`);
    const pkg = await register(ctx, s);
    runs.push(await sinkRun(ctx, s, pkg, port));
    fs.rmSync(s.t, { recursive: true, force: true });
  }
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const last = runs.at(-1);
  return {
    note: `${agents} agents, ${mb} MB package, ${last.mails} mails, ${Math.round(last.bytes / 2 ** 20)} MB through the sink; runs: RSS (MB) ${runs.map((r) => Math.round(toMB(r.rssKB))).join('/')}, time (ms) ${runs.map((r) => Math.round(r.ms)).join('/')}; load ${load}`,
    rows: [
      {
        name: `push-all ${agents} × ${mb} MB in parts: host peak RSS`,
        value: toMB(median(runs.map((r) => r.rssKB))),
        baseline: null,
        ratio: null,
        unit: 'MB',
        goal: { on: 'value', max: 200, text: '≤ 200 MB' },
      },
      { name: 'push-all in parts: time (sink)', value: median(runs.map((r) => r.ms)), baseline: null, ratio: null, unit: 'ms' },
      { name: 'push-all in parts: CPU (user+sys)', value: median(runs.map((r) => r.cpuMs)), baseline: null, ratio: null, unit: 'ms' },
    ],
  };
}
