// Rollouts (issue 12): `rds rollout advance` with every agent's update-result waiting vs an
// `rds inbox` pass over the same mail, side by side in one run.
//
//   advance   one pass: take in the 1,000 results (the inbox pass), then move the rollout on
//             (every agent installed: the rollout is done)
//   inbox     the same 1,000 results taken in, nothing more
//
// What the pass adds on top of the inbox is the cost to watch (goal ≤ 1.2×). Both run on the
// embedded mail backend (maildir://), so the figures are rds's own work, not a mail server's.
// Setup (once, untimed): a host, 1,000 registered agents (keys by bench/_mail-fleet.mjs),
// a push-all of a small package to all of them (one wave), and 1,000 signed update-results
// ('installed') built as each agent's reply would be. Before each run (untimed) the host's
// folder is put back to the snapshot taken after the push and the same 1,000 mails are
// delivered again, so both sides start from the same state with the same mail.
// The machine's load (1-min average) is sampled before every run and shown next to the
// figures. BENCH_ROLLOUT_AGENTS (1000) changes the size.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, exec, measure, median, rowOf } from './_lib.mjs';

export const title = 'rollout: rollout advance vs inbox over the same 1,000 update-results';

const DOMAIN = 'example.test';
const VERSION = '1.0.02-0';

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

/** The host, its 1,000 agents and the rollout to all of them (untimed). */
export async function setUp(ctx, agents, rds, mailRoot) {
  const t = ctx.tmp;
  const hostDir = path.join(t, 'host');
  const hostAddress = `host@${DOMAIN}`;
  const box = `maildir://${mailRoot}`;
  exec(rds('init', '--role', 'host', '--id', 'HOST', '--address', hostAddress, '--smtp', box, '--imap', box, '--dir', hostDir));
  const hostConfig = path.join(hostDir, 'config.json');
  const host = (...args) => rds('--config', hostConfig, ...args);
  const work = path.join(t, 'work');
  fs.mkdirSync(work, { recursive: true });
  const script = path.join(work, 'install.sh');
  fs.writeFileSync(script, '#!/bin/sh\nset -e\ncp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(work, 'main.cgi'), 'main 1.0.02\n');
  const pkg = path.join(t, 'update.rdsu');
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

  ctx.log(`generating ${agents} agent key pairs (2 processes) and registering them (rds agents import)`);
  const fleetDir = path.join(t, 'fleet');
  fs.mkdirSync(fleetDir, { recursive: true });
  const addresses = Array.from({ length: agents }, (_, i) => `agent${i + 1}@${DOMAIN}`);
  const half = Math.ceil(agents / 2);
  const ranges = [
    [1, half],
    [half + 1, agents],
  ].filter(([a, b]) => a <= b);
  const fleet = path.join(ctx.root, 'bench', '_mail-fleet.mjs');
  await Promise.all(
    ranges.map(([a, b]) => spawnOut([process.execPath, fleet, 'keys', ctx.root, fleetDir, String(a), String(b), addresses.join(',')])),
  );
  const rows = ranges.flatMap(([a, b]) => JSON.parse(fs.readFileSync(path.join(fleetDir, `private-${a}-${b}.json`), 'utf8')));
  const csv = path.join(fleetDir, 'agents.csv');
  fs.writeFileSync(csv, `${['id,address,key,note', ...rows.map((r) => `${r.id},${r.address},keys/${r.id}.asc,bench`)].join('\n')}\n`);
  exec(host('agents', 'import', csv));

  ctx.log(`push-all to ${agents} agents (one wave)`);
  exec(host('push-all', pkg));
  const [rollout] = JSON.parse(exec(host('--json', 'rollouts'))).rollouts;
  return { hostDir, hostConfig, hostAddress, host, rows, rolloutId: rollout.id, packageId: rollout.packageId };
}

/** One signed update-result per agent, as its reply() builds it (untimed). */
export async function buildResults(ctx, s) {
  const dist = (file) => import(pathToFileURL(path.join(ctx.root, 'dist', file)).href);
  const openpgp = await import('openpgp');
  const { buildPayload, signPayload } = await dist('core/message/payload.js');
  const { composeMail, VERSIONS_ATTACHMENT } = await dist('core/message/mail.js');
  const { formatVersionText } = await dist('core/version/version-text.js');
  const { encodeUpdateResult } = await dist('core/protocol/update-result.js');
  const { systemClock } = await dist('core/clock.js');
  const versionText = formatVersionText({
    softwareVersion: VERSION,
    modules: [{ name: 'main.cgi', version: '1.0.02', date: '2026/11/24' }],
  });
  const out = [];
  for (const agent of s.rows) {
    const key = await openpgp.readPrivateKey({ armoredKey: agent.privateArmored });
    const body = encodeUpdateResult({
      rolloutId: s.rolloutId,
      packageId: s.packageId,
      outcome: 'installed',
      softwareVersion: VERSION,
      versionText,
    });
    const payload = buildPayload({ type: 'update-result', from: agent.id, to: ['HOST'], body, ttlMs: 7 * 86_400_000, clock: systemClock });
    const subject = `update installed: ${agent.id} runs ${VERSION}`;
    const { raw } = await composeMail({
      from: agent.address,
      to: s.hostAddress,
      subject: `[rds] ${subject}`,
      text: `${subject}\n\n${versionText}`,
      type: 'update-result',
      payloadId: payload.id,
      armoredPayload: await signPayload(payload, key),
      attachments: [{ filename: VERSIONS_ATTACHMENT, content: Buffer.from(versionText), contentType: 'text/plain; charset=utf-8' }],
    });
    out.push(raw);
  }
  return out;
}

export async function run(ctx) {
  const agents = Number(process.env.BENCH_ROLLOUT_AGENTS ?? 1000);
  const rds = (...args) => [process.execPath, ctx.bin, ...args];
  const mailRoot = path.join(ctx.tmp, 'mail');
  fs.mkdirSync(mailRoot, { recursive: true, mode: 0o700 });
  const s = await setUp(ctx, agents, rds, mailRoot);
  ctx.log(`building ${agents} signed update-results`);
  const results = await buildResults(ctx, s);
  const snapshot = path.join(ctx.tmp, 'host-snapshot');
  fs.cpSync(s.hostDir, snapshot, { recursive: true });
  const { MaildirSender } = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'mail', 'maildir.js')).href);
  const { mailboxDir } = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'mail', 'maildir-layout.js')).href);
  const sender = new MaildirSender(mailRoot, { fsync: false });
  const loads = [];
  const before = async () => {
    fs.rmSync(s.hostDir, { recursive: true, force: true });
    fs.cpSync(snapshot, s.hostDir, { recursive: true });
    fs.rmSync(mailboxDir(mailRoot, s.hostAddress), { recursive: true, force: true });
    for (const raw of results) await sender.sendRaw({ from: 'bench@example.test', to: [s.hostAddress] }, raw);
    loads.push(os.loadavg()[0]);
  };
  const installed = () => {
    const got = JSON.parse(exec(s.host('--json', 'rollouts'))).rollouts.find((x) => x.id === s.rolloutId)?.installed;
    if (got !== agents) throw new Error(`after the run ${got} of ${agents} agents count as installed`);
  };
  ctx.log(`${agents} results, ${ctx.runs} runs each (+1 warm-up), alternating; host state and mail put back before each`);
  const loadStart = os.loadavg()[0];
  const r = await compare(
    ctx.runs,
    async () => {
      const m = await measure(s.host('rollout', 'advance', s.rolloutId));
      installed();
      return m;
    },
    async () => {
      const m = await measure(s.host('inbox'));
      if (!m.stdout.includes(`${agents} update-result`)) throw new Error(`inbox did not take in every result:\n${m.stdout.slice(0, 2000)}`);
      installed();
      return m;
    },
    { before },
  );
  const load = median(loads);
  return {
    note:
      `${agents} agents, one wave, maildir:// backend; machine load (1-min avg): ${loadStart.toFixed(2)} at the start, median ${load.toFixed(2)} over the runs, ` +
      `${os.loadavg()[0].toFixed(2)} at the end, ${os.cpus().length} CPU; runs (ms) advance ${r.a.all.join('/')} inbox ${r.b.all.join('/')}`,
    rows: [
      rowOf(`rollout advance, ${agents} results waiting: time`, r, 'ms', { on: 'ratio', max: 1.2, text: '≤ 1.2× inbox pass' }),
      rowOf('rollout advance: CPU (user+sys)', r, 'cpuMs'),
      rowOf('rollout advance: peak RSS', r, 'rssKB'),
      { name: 'machine load during the runs (1-min avg, median)', value: load, baseline: null, ratio: null, unit: 'load' },
    ],
  };
}
