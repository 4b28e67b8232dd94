// Host side of update parts (issue 13, docs/protocol.md#update-parts, docs/formats.md):
//   push-all in parts   `rds push-all` of a BENCH_PARTS_MB (50) MB package to BENCH_PARTS_AGENTS
//                       (100) agents over real Postfix + Dovecot (bench/mail.mjs's testbed; the
//                       agents share its 20 mailboxes): N part mails per agent, each under
//                       Postfix's 10,240,000 bytes (learnt from its EHLO SIZE)
//                       vs a raw nodemailer pool (same pool size and mails in flight as rds,
//                       STARTTLS + AUTH on the submission port) sending as many mails of the
//                       size of a full part mail to the same addresses
//   host peak RSS       `rds push-all` of a BENCH_PARTS_RSS_MB (200) MB package to the same
//                       agents through a discard SMTP server (bench/_sink-smtp.mjs, SIZE
//                       10240000): the host's memory does not depend on the server, and 28 GB
//                       of mail need not be written anywhere (goal ≤ 200 MB)
// Both sides are child processes timed from spawn to exit. The load average is printed next
// to the figures (scripts/bench.mjs prints it for the run; this section prints it as it ends).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, exec, freePort, measure, rowOf, toMB } from './_lib.mjs';

export const title = 'update parts on the host: push-all of a package in parts vs raw nodemailer; peak RSS';

const DOMAIN = 'example.test';
const PASSWORD = 'secret';
const MAILBOXES = 20;
const VERSION = '1.0.02-0';
const POOL = 5; // src/core/mail/smtp.ts maxConnections default
const IN_FLIGHT = 8; // push-all's flushOutbox concurrency
const POSTFIX_LIMIT = 10_240_000;

async function ports() {
  const names = ['smtp', 'submit', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s', 'lmtp', 'auth', 'sink'];
  const out = {};
  const seen = new Set();
  for (const name of names) {
    let p;
    do p = await freePort();
    while (seen.has(p));
    seen.add(p);
    out[name] = p;
  }
  return out;
}

function countFiles(dir) {
  let n = 0;
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  } catch {
    /* not created yet */
  }
  return n;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function writeRandom(file, mb) {
  const fd = fs.openSync(file, 'w');
  for (let left = Math.round(mb * 2 ** 20); left > 0; left -= 4 * 2 ** 20) fs.writeSync(fd, randomBytes(Math.min(left, 4 * 2 ** 20)));
  fs.closeSync(fd);
}

export async function run(ctx) {
  const agents = Number(process.env.BENCH_PARTS_AGENTS ?? 100);
  const packageMB = Number(process.env.BENCH_PARTS_MB ?? 50);
  const rssMB = Number(process.env.BENCH_PARTS_RSS_MB ?? 200);
  const t = ctx.tmp;
  const p = await ports();
  const mailDir = path.join(t, 'mail');
  const serverEnv = {
    ...process.env,
    SMTP_PORT: String(p.smtp),
    SUBMIT_PORT: String(p.submit),
    SMTPS_PORT: String(p.smtps),
    IMAP_PORT: String(p.imap),
    IMAPS_PORT: String(p.imaps),
    POP3_PORT: String(p.pop3),
    POP3S_PORT: String(p.pop3s),
    LMTP_PORT: String(p.lmtp),
    AUTH_PORT: String(p.auth),
  };
  delete serverEnv.MAIL_USERS;
  const scripts = path.join(ctx.root, 'scripts', 'testbed');
  ctx.log(`starting Postfix + Dovecot in ${mailDir} (submission ${p.submit})`);
  exec(['bash', path.join(scripts, 'start-mail.sh'), mailDir], { env: serverEnv });
  try {
    return await measureAll(ctx, { agents, packageMB, rssMB, t, p, mailDir });
  } finally {
    ctx.log('stopping the mail servers');
    try {
      exec(['bash', path.join(scripts, 'stop-mail.sh'), mailDir], { env: serverEnv });
    } catch (error) {
      ctx.log(`stop-mail.sh: ${error.message}`);
    }
  }
}

/** Host, package, agents registered; the raw client's spec. */
async function setup(ctx, { agents, packageMB, t, p, mailDir }) {
  const node = process.execPath;
  const rds = (...args) => [node, ctx.bin, ...args];
  const ca = path.join(mailDir, 'tls', 'cert.pem');
  const hostAddress = `host@${DOMAIN}`;
  const enc = encodeURIComponent(hostAddress);
  const hostDir = path.join(t, 'host');
  exec(
    rds(
      ...['init', '--role', 'host', '--id', 'HOST', '--address', hostAddress],
      ...['--smtp', `smtp://${enc}:${PASSWORD}@127.0.0.1:${p.submit}`, '--imap', `imap://${enc}:${PASSWORD}@127.0.0.1:${p.imap}`],
      ...['--tls-ca', ca, '--dir', hostDir],
    ),
  );
  const hostConfig = path.join(hostDir, 'config.json');
  const host = (...args) => rds('--config', hostConfig, ...args);
  const pack = (mb, name) => {
    const work = path.join(t, `work-${name}`);
    fs.mkdirSync(work, { recursive: true });
    const module = path.join(work, 'big.bin');
    writeRandom(module, mb);
    const script = path.join(work, 'install.sh');
    fs.writeFileSync(script, '#!/bin/sh\nset -e\nmv "$RDS_PAYLOAD_DIR/modules/"* "$RDS_RELEASE_DIR/"\n', { mode: 0o755 });
    const pkg = path.join(t, `${name}.rdsu`);
    exec(host('pack-update', '--software-version', VERSION, '--script', script, '--module', `big.bin=1.0.00:${module}`, '-o', pkg));
    fs.rmSync(work, { recursive: true });
    return pkg;
  };
  ctx.log(`packing a ${packageMB} MB package; ${agents} agent keys, registered with rds agents import`);
  const pkg = pack(packageMB, 'update');
  const fleetDir = path.join(t, 'fleet');
  fs.mkdirSync(fleetDir, { recursive: true });
  const mailboxes = Array.from({ length: MAILBOXES }, (_, i) => `agent${i + 1}@${DOMAIN}`);
  exec([node, path.join(ctx.root, 'bench', '_mail-fleet.mjs'), 'keys', ctx.root, fleetDir, '1', String(agents), mailboxes.join(',')]);
  const rows = JSON.parse(fs.readFileSync(path.join(fleetDir, `private-1-${agents}.json`), 'utf8'));
  const csv = path.join(fleetDir, 'agents.csv');
  fs.writeFileSync(csv, `${['id,address,key,note', ...rows.map((r) => `${r.id},${r.address},keys/${r.id}.asc,bench`)].join('\n')}\n`);
  exec(host('agents', 'import', csv));
  return { node, rds, host, hostDir, hostAddress, ca, pkg, csv, rows, fleetDir };
}

/** The raw client's mail: the size of a full part mail (a part's bytes, a signed payload, the text). */
async function rawTemplate(ctx, s, partSize) {
  const mailLib = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'message', 'mail.js')).href);
  const { raw } = await mailLib.composeMail({
    from: s.hostAddress,
    to: s.rows[0].address,
    subject: `[rds] update to ${VERSION} for AGENT0000001, part 2 of 8`,
    text: `Update ${VERSION} (rollout R00000000000000-00000000) for AGENT0000001: part 2 of 8.\nThe agent reassembles, verifies, installs and reports back by itself.`,
    type: 'update-part',
    payloadId: randomUUID(),
    armoredPayload: `-----BEGIN PGP MESSAGE-----\n\n${randomBytes(700).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PGP MESSAGE-----\n`,
    attachments: [{ filename: 'update.part', content: randomBytes(partSize) }],
  });
  const file = path.join(s.fleetDir, 'template.eml');
  fs.writeFileSync(file, raw.toString('latin1').replace(/^(To|Message-ID): .*\r\n/gim, ''), 'latin1');
  return { file, size: raw.length };
}

async function measureAll(ctx, o) {
  const s = await setup(ctx, o);
  const doveadm = (...args) => exec(['doveadm', '-c', path.join(o.mailDir, 'dovecot', 'dovecot.conf'), ...args]);
  const spool = path.join(o.mailDir, 'spool');
  const drain = async () => {
    const t0 = performance.now();
    for (;;) {
      const queued = ['maildrop', 'incoming', 'active', 'deferred', 'hold'].reduce((n, q) => n + countFiles(path.join(spool, q)), 0);
      if (queued === 0) return;
      if (countFiles(path.join(spool, 'deferred')) > 0) throw new Error(`Postfix deferred mail; see ${path.join(o.mailDir, 'log')}`);
      if (performance.now() - t0 > 900_000) throw new Error('Postfix queue not empty after 900 s');
      await sleep(200);
    }
  };
  const empty = async () => {
    await drain();
    doveadm('expunge', '-A', 'mailbox', 'INBOX', 'all');
  };
  const dry = JSON.parse(exec(s.host('--json', 'push-all', '--dry-run', s.pkg)));
  const perAgent = dry.parts?.perAgent ?? 1;
  const partSize = dry.parts?.partSize ?? 0;
  const template = await rawTemplate(ctx, s, partSize);
  const recipients = s.rows.flatMap((r) => Array.from({ length: perAgent }, () => r.address));
  const spec = path.join(s.fleetDir, 'spec.json');
  const baseSpec = {
    ports: o.p,
    ca: s.ca,
    hostAddress: s.hostAddress,
    password: PASSWORD,
    template: template.file,
    maxConnections: POOL,
    concurrency: IN_FLIGHT,
  };
  fs.writeFileSync(spec, JSON.stringify({ ...baseSpec, recipients }));
  ctx.log(`push-all: ${o.agents} agents × ${perAgent} parts of ${partSize} bytes (${recipients.length} mails), ${ctx.runs} runs each`);
  const push = await compare(
    ctx.runs,
    async () => {
      const r = await measure(s.host('push-all', s.pkg));
      if (!r.stdout.includes(`sent to ${o.agents} of ${o.agents} agents`))
        throw new Error(`push-all did not send to all:\n${r.stdout.slice(0, 2000)}${r.stderr.slice(-2000)}`);
      return r;
    },
    async () => {
      const r = await measure([s.node, path.join(ctx.root, 'bench', '_mail-fleet.mjs'), 'send', spec]);
      if (JSON.parse(r.stdout).sent !== recipients.length) throw new Error(`raw send: ${r.stdout}`);
      return r;
    },
    { warmup: 0, before: empty },
  );
  await empty();
  const rss = await peakRss(ctx, s, o);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  return {
    note:
      `${o.agents} agents on ${MAILBOXES} mailboxes; package ${o.packageMB} MB in ${perAgent} parts of ${partSize} bytes (Postfix SIZE ${POSTFIX_LIMIT}); ` +
      `raw mail ${template.size} bytes each; pool ${POOL}, ${IN_FLIGHT} in flight; runs (ms) rds ${push.a.all.join('/')} raw ${push.b.all.join('/')}; ` +
      `RSS: ${o.rssMB} MB to ${o.agents} agents through a discard SMTP sink, ${rss.mails} mails, ${Math.round(rss.bytes / 2 ** 20)} MB; load ${load}`,
    rows: [
      rowOf(`push-all ${o.agents} × ${o.packageMB} MB in parts: time`, push, 'ms', {
        on: 'ratio',
        max: 1.15,
        text: '≤ 1.15× raw nodemailer send',
      }),
      rowOf('push-all in parts: CPU (user+sys)', push, 'cpuMs'),
      rowOf('push-all in parts: peak RSS', push, 'rssKB'),
      {
        name: `push-all ${o.agents} × ${o.rssMB} MB in parts: host peak RSS`,
        value: toMB(rss.rssKB),
        baseline: null,
        ratio: null,
        unit: 'MB',
        goal: { on: 'value', max: 200, text: '≤ 200 MB' },
      },
    ],
  };
}

/** Peak RSS of one push-all of the big package through the discard sink (SIZE 10240000). */
async function peakRss(ctx, s, o) {
  const big = path.join(o.t, 'big.rdsu');
  const pkgDir = path.join(o.t, 'work-big');
  ctx.log(`host peak RSS: packing ${o.rssMB} MB, pushing it to ${o.agents} agents through a discard SMTP server`);
  const sinkHost = path.join(o.t, 'sink-host');
  exec(
    s.rds(
      'init',
      '--role',
      'host',
      '--id',
      'HOST',
      '--address',
      s.hostAddress,
      '--smtp',
      `smtp://127.0.0.1:${o.p.sink}?tls=off`,
      '--imap',
      `maildir://${path.join(o.t, 'sink-mail')}`,
      '--dir',
      sinkHost,
    ),
  );
  const config = path.join(sinkHost, 'config.json');
  exec(s.rds('--config', config, 'agents', 'import', s.csv));
  fs.mkdirSync(pkgDir, { recursive: true });
  const module = path.join(pkgDir, 'big.bin');
  writeRandom(module, o.rssMB);
  const script = path.join(pkgDir, 'install.sh');
  fs.writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  exec(
    s.rds(
      '--config',
      config,
      'pack-update',
      '--software-version',
      VERSION,
      '--script',
      script,
      '--module',
      `big.bin=1.0.00:${module}`,
      '-o',
      big,
    ),
  );
  fs.rmSync(pkgDir, { recursive: true });
  const sink = spawn(s.node, [path.join(ctx.root, 'bench', '_sink-smtp.mjs'), String(o.p.sink), String(POSTFIX_LIMIT)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  sink.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  for (let i = 0; i < 200 && !out.includes('ready'); i++) await sleep(50);
  try {
    const r = await measure(s.rds('--config', config, 'push-all', big));
    if (!r.stdout.includes(`sent to ${o.agents} of ${o.agents} agents`))
      throw new Error(`push-all (sink) did not send to all:\n${r.stdout.slice(0, 2000)}`);
    return { rssKB: r.rssKB, ...(await stopSink(sink, () => out)) };
  } catch (error) {
    sink.kill('SIGKILL');
    throw error;
  }
}

async function stopSink(sink, out) {
  const closed = new Promise((resolve) => sink.on('close', resolve));
  sink.kill('SIGTERM');
  await closed;
  const line = out().trim().split('\n').at(-1);
  return JSON.parse(line);
}
