// Mail on real servers (Postfix 3.7 + Dovecot 2.3 on loopback, started here in ctx.tmp):
//   push-all       `rds push-all` of one 1 MB update package to 1,000 agents
//                  vs a raw nodemailer pool (same size as rds's, STARTTLS + AUTH on the
//                  submission port) sending 1,000 mails of the same size to the same addresses
//   inbox+verify   `rds verify` (an inbox pass over 1,000 signed version reports, each from
//                  a distinct registered agent, then the verify table)
//                  vs the honest baseline: a raw imapflow fetch of the same 1,000 mails plus
//                  openpgp.verify of each payload against its sender's key, one process
//                  (_mail-fleet.mjs fetch-verify: the least secure work possible)
//                  and, for reference, a raw imapflow session fetching them (connect, fetch
//                  every source, logout)
// Both sides are child processes timed from spawn to exit, i.e. until every mail was
// accepted by the server (send) or read (fetch); Postfix's own delivery afterwards is not
// timed, but the queue is drained and the mailboxes are emptied before every run so each
// run starts from the same state. The 1,000 agents share the testbed's 20 mailboxes
// (agent1..agent20, 50 agents each; the host resolves a shared address by the signing key).
// Setup (keys, registration, package) happens once; the reports are rebuilt with fresh
// payload ids and re-delivered before each inbox run (outside the timed region).
// BENCH_MAIL_AGENTS (1000) and BENCH_MAIL_PACKAGE_MB (1) change the sizes;
// BENCH_MAIL_ONLY=push or =inbox runs one half only; BENCH_MAIL_PROFILE=DIR runs the timed
// rds commands under `node --cpu-prof` (main thread and worker threads), profiles in
// DIR/push-all and DIR/verify (the figures of such a run are not comparable).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, exec, freePort, measure, median, rowOf } from './_lib.mjs';

export const title = 'mail: push-all and inbox+verify, 1,000 agents, Postfix + Dovecot';

const DOMAIN = 'example.test';
const PASSWORD = 'secret';
const MAILBOXES = 20;
const VERSION = '1.0.02-0';
// rds's SMTP pool (src/core/mail/smtp.ts: maxConnections default 5; push-all does not
// change it) and the number of mails push-all keeps in flight (flushOutbox concurrency 8)
const POOL = 5;
const IN_FLIGHT = 8;
const PREFERRED_PORTS = { smtp: 3525, submit: 3587, smtps: 3465, imap: 3143, imaps: 3993, pop3: 3110, pop3s: 3995, lmtp: 3424, auth: 3412 };

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The suggested ports when all are free, else ports the kernel hands out. */
async function pickPorts() {
  const ok = await Promise.all(Object.values(PREFERRED_PORTS).map(portFree));
  if (ok.every(Boolean)) return { ...PREFERRED_PORTS };
  const ports = {};
  const seen = new Set();
  for (const name of Object.keys(PREFERRED_PORTS)) {
    let p;
    do p = await freePort();
    while (seen.has(p));
    seen.add(p);
    ports[name] = p;
  }
  return ports;
}

/** Spawn argv, resolve its stdout; reject with stderr on a non-zero exit. */
function spawnOut(argv, { env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')}: exit ${code}\n${err.slice(-2000)}`))));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function countFiles(dir) {
  let n = 0;
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  } catch {
    /* not created yet */
  }
  return n;
}

export async function run(ctx) {
  const agents = Number(process.env.BENCH_MAIL_AGENTS ?? 1000);
  const packageMB = Number(process.env.BENCH_MAIL_PACKAGE_MB ?? 1);
  const t = ctx.tmp;
  const node = process.execPath;
  const rds = (...args) => [node, ctx.bin, ...args];
  const fleet = path.join(ctx.root, 'bench', '_mail-fleet.mjs');
  const mailDir = path.join(t, 'mail');
  const ports = await pickPorts();
  const serverEnv = {
    ...process.env,
    SMTP_PORT: String(ports.smtp),
    SUBMIT_PORT: String(ports.submit),
    SMTPS_PORT: String(ports.smtps),
    IMAP_PORT: String(ports.imap),
    IMAPS_PORT: String(ports.imaps),
    POP3_PORT: String(ports.pop3),
    POP3S_PORT: String(ports.pop3s),
    LMTP_PORT: String(ports.lmtp),
    AUTH_PORT: String(ports.auth),
  };
  delete serverEnv.MAIL_USERS; // the stock users: host, agent1..agent20
  const scripts = path.join(ctx.root, 'scripts', 'testbed');
  ctx.log(`starting Postfix + Dovecot in ${mailDir} (submission ${ports.submit}, imap ${ports.imap})`);
  exec(['bash', path.join(scripts, 'start-mail.sh'), mailDir], { env: serverEnv });
  try {
    return await measureAll(ctx, { agents, packageMB, t, rds, fleet, mailDir, ports, node });
  } finally {
    ctx.log('stopping the mail servers');
    try {
      exec(['bash', path.join(scripts, 'stop-mail.sh'), mailDir], { env: serverEnv });
    } catch (error) {
      ctx.log(`stop-mail.sh: ${error.message}`);
    }
  }
}

async function measureAll(ctx, { agents, packageMB, t, rds, fleet, mailDir, ports, node }) {
  const ca = path.join(mailDir, 'tls', 'cert.pem');
  const doveconf = path.join(mailDir, 'dovecot', 'dovecot.conf');
  const doveadm = (...args) => exec(['doveadm', '-c', doveconf, ...args]);
  const hostAddress = `host@${DOMAIN}`;
  const mailboxes = Array.from({ length: MAILBOXES }, (_, i) => `agent${i + 1}@${DOMAIN}`);
  const maildir = (local) => path.join(mailDir, 'mailboxes', DOMAIN, local, 'Maildir');
  const inboxCount = (local) => countFiles(path.join(maildir(local), 'new')) + countFiles(path.join(maildir(local), 'cur'));
  const spool = path.join(mailDir, 'spool');

  /** Until Postfix's queue is empty (every accepted mail handed to Dovecot). */
  const drain = async (what) => {
    const t0 = performance.now();
    for (;;) {
      const queued = ['maildrop', 'incoming', 'active', 'deferred', 'hold'].reduce((n, q) => n + countFiles(path.join(spool, q)), 0);
      if (queued === 0) return;
      if (countFiles(path.join(spool, 'deferred')) > 0) {
        throw new Error(`Postfix deferred mail (${what}); see ${path.join(mailDir, 'log', 'postfix.log')}`);
      }
      if (performance.now() - t0 > 300_000) throw new Error(`Postfix queue not empty after 300 s (${what})`);
      await sleep(100);
    }
  };

  // ---- setup (not measured) ------------------------------------------------------------
  const hostDir = path.join(t, 'host');
  const enc = encodeURIComponent(hostAddress);
  exec(
    rds(
      ...['init', '--role', 'host', '--id', 'HOST', '--address', hostAddress],
      ...['--smtp', `smtp://${enc}:${PASSWORD}@127.0.0.1:${ports.submit}`, '--imap', `imap://${enc}:${PASSWORD}@127.0.0.1:${ports.imap}`],
      ...['--tls-ca', ca, '--dir', hostDir],
    ),
  );
  const hostConfig = path.join(hostDir, 'config.json');
  const host = (...args) => rds('--config', hostConfig, ...args);

  ctx.log(`packing one update package with a ${packageMB} MB module`);
  const work = path.join(t, 'work');
  fs.mkdirSync(path.join(work, 'modules'), { recursive: true });
  const module = path.join(work, 'modules', 'big.bin');
  fs.writeFileSync(module, randomBytes(Math.round(packageMB * 2 ** 20)));
  const script = path.join(work, 'install.sh');
  fs.writeFileSync(script, '#!/bin/sh\nset -e\nmv "$RDS_PAYLOAD_DIR/modules/"* "$RDS_RELEASE_DIR/"\n', { mode: 0o755 });
  const pkg = path.join(t, 'update.rdsu');
  exec(host('pack-update', '--software-version', VERSION, '--script', script, '--module', `big.bin=1.0.00:${module}`, '-o', pkg));

  ctx.log(`generating ${agents} agent key pairs (2 processes) and registering them (rds agents import)`);
  const fleetDir = path.join(t, 'fleet');
  fs.mkdirSync(fleetDir, { recursive: true });
  const half = Math.ceil(agents / 2);
  const ranges = [
    [1, half],
    [half + 1, agents],
  ].filter(([a, b]) => a <= b);
  const k0 = performance.now();
  await Promise.all(ranges.map(([a, b]) => spawnOut([node, fleet, 'keys', ctx.root, fleetDir, String(a), String(b), mailboxes.join(',')])));
  const privateRows = ranges.flatMap(([a, b]) => JSON.parse(fs.readFileSync(path.join(fleetDir, `private-${a}-${b}.json`), 'utf8')));
  const privateKeys = path.join(fleetDir, 'private.json');
  fs.writeFileSync(privateKeys, JSON.stringify(privateRows));
  const csv = path.join(fleetDir, 'agents.csv');
  fs.writeFileSync(
    csv,
    `${['id,address,key,note', ...privateRows.map((r) => `${r.id},${r.address},keys/${r.id}.asc,bench`)].join('\n')}\n`,
  );
  const imported = exec(host('agents', 'import', csv));
  ctx.log(`${imported.trim()} (${((performance.now() - k0) / 1000).toFixed(1)} s)`);
  const recipients = privateRows.map((r) => r.address);

  // The baseline's mail: what rds sends per agent (package body, ~100 bytes of wrapped
  // session key, signed payload, text), composed once; per mail only To and Message-ID.
  const mailLib = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'message', 'mail.js')).href);
  const pkgBytes = fs.statSync(pkg).size;
  const { raw: sample } = await mailLib.composeMail({
    from: hostAddress,
    to: recipients[0],
    subject: `[rds] update to ${VERSION} for AGENT0000001`,
    text: `Update ${VERSION} (rollout R00000000000000-00000000) for AGENT0000001.\nThe agent verifies, installs and reports back by itself.`,
    type: 'update',
    payloadId: randomUUID(),
    armoredPayload: `-----BEGIN PGP MESSAGE-----\n\n${randomBytes(540).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PGP MESSAGE-----\n`,
    attachments: [{ filename: mailLib.PACKAGE_ATTACHMENT, content: randomBytes(pkgBytes + 100) }],
  });
  const template = path.join(fleetDir, 'template.eml');
  fs.writeFileSync(template, sample.toString('latin1').replace(/^(To|Message-ID): .*\r\n/gim, ''), 'latin1');
  const baseSpec = {
    ports,
    ca,
    hostAddress,
    hostId: 'HOST',
    password: PASSWORD,
    version: VERSION,
    privateKeys,
    recipients,
    template,
    maxConnections: POOL,
    concurrency: IN_FLIGHT,
  };
  const specFile = path.join(fleetDir, 'spec.json');
  fs.writeFileSync(specFile, JSON.stringify(baseSpec));
  const only = process.env.BENCH_MAIL_ONLY;
  const env = {
    ctx,
    agents,
    packageMB,
    host,
    pkg,
    node,
    fleet,
    privateRows,
    baseSpec,
    specFile,
    fleetDir,
    drain,
    doveadm,
    maildir,
    inboxCount,
    hostAddress,
  };
  const push = only === 'inbox' ? null : await pushAll(env);
  const verify = only === 'push' ? null : await inboxVerify(env);
  const kb = (b) => (b === null ? '?' : `${Math.round(b / 1024)} KB`);
  const rows = [];
  const notes = [`${agents} agents on ${MAILBOXES} shared mailboxes, package ${kb(pkgBytes)}; ports ${ports.submit}/${ports.imap}`];
  if (push) {
    notes.push(
      `one delivered mail: rds ${kb(push.rdsMailSize)}, raw ${kb(push.rawMailSize)}; pool ${POOL} connections, ${IN_FLIGHT} in flight`,
      `runs (ms) push rds ${push.a.all.join('/')} raw ${push.b.all.join('/')}`,
    );
    rows.push(
      rowOf(`push-all ${agents} × ${packageMB} MB: time`, push, 'ms', { on: 'ratio', max: 1.15, text: '≤ 1.15× raw nodemailer send' }),
      rowOf('push-all: CPU (user+sys)', push, 'cpuMs'),
      rowOf('push-all: peak RSS', push, 'rssKB'),
    );
  }
  if (verify) {
    const { rds, verified, fetched, load } = verify;
    notes.push(
      `runs (ms) inbox+verify rds ${rds.all.join('/')} fetch+verify ${verified.all.join('/')} raw fetch ${fetched.all.join('/')}; ` +
        `load average (1 min) over the inbox runs ${load.map((l) => l.toFixed(1)).join('/')}, median ${median(load).toFixed(1)}`,
    );
    rows.push(
      rowOf(`inbox+verify ${agents} reports: time`, { a: rds, b: verified }, 'ms', {
        on: 'ratio',
        max: 1.0,
        text: '≤ 1.0× raw imapflow fetch + openpgp.verify',
      }),
      rowOf('inbox+verify: CPU (user+sys), vs fetch+verify', { a: rds, b: verified }, 'cpuMs'),
      rowOf('inbox+verify: peak RSS, vs fetch+verify', { a: rds, b: verified }, 'rssKB'),
      rowOf(`inbox+verify ${agents} reports: time, vs raw fetch (reference)`, { a: rds, b: fetched }, 'ms'),
    );
  }
  return { note: notes.join('; '), rows };
}

/** argv under `node --cpu-prof` when BENCH_MAIL_PROFILE names a folder. */
function profiled(argv, label) {
  const dir = process.env.BENCH_MAIL_PROFILE;
  if (!dir) return argv;
  return [argv[0], '--cpu-prof', `--cpu-prof-dir=${path.resolve(dir, label)}`, ...argv.slice(1)];
}

async function pushAll({ ctx, agents, host, pkg, node, fleet, privateRows, baseSpec, specFile, fleetDir, drain, doveadm, maildir }) {
  // ---- push-all vs raw pooled send ---------------------------------------------------
  const emptyAgentBoxes = async (what) => {
    await drain(what);
    doveadm('expunge', '-A', 'mailbox', 'INBOX', 'all');
  };
  let rdsMailSize = null;
  let rawMailSize = null;
  const sizeOfOneDelivered = async (what) => {
    await drain(what);
    const dir = path.join(maildir('agent1'), 'new');
    const f = fs.readdirSync(dir)[0];
    return f ? fs.statSync(path.join(dir, f)).size : null;
  };
  // Warm-up (untimed, small: a full-size one costs minutes): both clients once, 20 mails each.
  const warm = privateRows.slice(0, 20);
  const warmSpec = path.join(fleetDir, 'spec-warm.json');
  fs.writeFileSync(warmSpec, JSON.stringify({ ...baseSpec, recipients: warm.map((r) => r.address) }));
  ctx.log('push-all: warm-up, 20 mails each');
  await emptyAgentBoxes('warm-up');
  exec(host('push-all', pkg, '--agents', warm.map((r) => r.id).join(',')));
  await emptyAgentBoxes('warm-up');
  exec([node, fleet, 'send', warmSpec]);
  ctx.log(`push-all: ${agents} mails, ${ctx.runs} runs each, alternating; queue drained and boxes emptied before each`);
  const push = await compare(
    ctx.runs,
    async () => {
      const r = await measure(profiled(host('push-all', pkg), 'push-all'));
      if (!r.stdout.includes(`sent to ${agents} of ${agents} agents`))
        throw new Error(`push-all did not send to all:\n${r.stdout.slice(0, 2000)}${r.stderr.slice(-2000)}`);
      rdsMailSize ??= await sizeOfOneDelivered('push-all');
      return r;
    },
    async () => {
      const r = await measure([node, fleet, 'send', specFile]);
      if (JSON.parse(r.stdout).sent !== agents) throw new Error(`raw send: ${r.stdout}`);
      rawMailSize ??= await sizeOfOneDelivered('raw send');
      return r;
    },
    { warmup: 0, before: () => emptyAgentBoxes('push') },
  );
  await emptyAgentBoxes('push');
  return { ...push, rdsMailSize, rawMailSize };
}

async function inboxVerify({ ctx, agents, host, node, fleet, baseSpec, specFile, fleetDir, drain, doveadm, inboxCount, hostAddress }) {
  // ---- inbox+verify vs fetch+verify and raw fetch ------------------------------------
  ctx.log(`inbox+verify: ${agents} reports, ${ctx.runs} runs each (+1 warm-up), rotating; fresh reports delivered before each`);
  const spec = () => ({ ...baseSpec, publicKeys: path.join(fleetDir, 'keys') });
  const sides = {
    rds: async () => {
      const r = await measure(profiled(host('verify', '--target', VERSION), 'verify'));
      if (!r.stdout.includes(`0 of ${agents} agents failed`))
        throw new Error(`verify did not see every report:\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
      const left = inboxCount('host');
      if (left !== 0) throw new Error(`verify left ${left} mails in INBOX`);
      return r;
    },
    verified: async () => {
      const r = await measure([node, fleet, 'fetch-verify', specFile]);
      const got = JSON.parse(r.stdout);
      if (got.count !== agents || got.verified !== agents) throw new Error(`fetch+verify: ${r.stdout}`);
      return r;
    },
    fetched: async () => {
      const r = await measure([node, fleet, 'fetch', specFile]);
      if (JSON.parse(r.stdout).count !== agents) throw new Error(`raw fetch: ${r.stdout}`);
      return r;
    },
  };
  let round = 0;
  const deliverReports = async () => {
    doveadm('expunge', '-u', hostAddress, 'mailbox', '*', 'all');
    fs.writeFileSync(specFile, JSON.stringify({ ...spec(), round: ++round }));
    await spawnOut([node, fleet, 'reports', ctx.root, specFile]);
    await drain('reports');
    const got = inboxCount('host');
    if (got !== agents) throw new Error(`host INBOX holds ${got} mails, expected ${agents}`);
  };
  // three sides, the order rotated each round so none profits from its place; round 0 is a warm-up
  const names = Object.keys(sides);
  const results = Object.fromEntries(names.map((n) => [n, []]));
  const load = [];
  for (let i = 0; i <= ctx.runs; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      await deliverReports();
      if (i > 0) load.push(os.loadavg()[0]);
      const r = await sides[name]();
      if (i > 0) results[name].push(r);
    }
  }
  const summary = (rs) => ({
    ms: median(rs.map((r) => r.ms)),
    rssKB: rs.some((r) => r.rssKB === null) ? null : median(rs.map((r) => r.rssKB)),
    cpuMs: rs.some((r) => r.cpuMs === null) ? null : median(rs.map((r) => r.cpuMs)),
    all: rs.map((r) => Math.round(r.ms)),
  });
  return { rds: summary(results.rds), verified: summary(results.verified), fetched: summary(results.fetched), load };
}
