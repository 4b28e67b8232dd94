#!/usr/bin/env node
// Helper child of bench/mail.mjs (not a section). One job per process:
//
//   keys    ROOT OUT FROM TO ADDRESSES       agent key pairs FROM..TO (dist/core/crypto/keys.js)
//   reports ROOT SETUP                       build + deliver the version reports (untimed setup)
//   send    SETUP                            baseline: raw nodemailer pooled send (timed)
//   fetch   SETUP                            baseline: raw imapflow fetch of INBOX (timed)
//   fetch-verify SETUP                       honest baseline: the fetch plus openpgp.verify of
//                                            each payload against its sender's key (timed)
//
// SETUP is a JSON file written by bench/mail.mjs (ports, CA, addresses, files).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [job, ...args] = process.argv.slice(2);
const dist = (root, file) => import(pathToFileURL(path.join(root, 'dist', file)).href);
const readSpec = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Run `fn(i)` for i in 0..n-1 with at most `width` at once. */
async function pool(n, width, fn) {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, width) }, worker));
}

const agentId = (i) => `AGENT${String(i).padStart(7, '0')}`;

async function keys(root, out, from, to, addresses) {
  const { generateKeyPair } = await dist(root, 'core/crypto/keys.js');
  const book = addresses.split(',');
  const rows = [];
  fs.mkdirSync(path.join(out, 'keys'), { recursive: true });
  for (let i = Number(from); i <= Number(to); i++) {
    const id = agentId(i);
    const address = book[(i - 1) % book.length];
    const pair = await generateKeyPair(id, address);
    fs.writeFileSync(path.join(out, 'keys', `${id}.asc`), pair.publicArmored);
    rows.push({ id, address, privateArmored: pair.privateArmored });
  }
  fs.writeFileSync(path.join(out, `private-${from}-${to}.json`), JSON.stringify(rows));
}

/**
 * One signed version-report per agent, as an agent's `reply()` builds it (payload signed
 * with the agent's key, versions.txt attached), fresh payload ids each call, delivered to
 * the host through the plain SMTP port (untimed).
 */
async function reports(root, specFile) {
  const spec = readSpec(specFile);
  const openpgp = await import('openpgp');
  const { buildPayload, signPayload } = await dist(root, 'core/message/payload.js');
  const { composeMail, VERSIONS_ATTACHMENT } = await dist(root, 'core/message/mail.js');
  const { formatVersionText } = await dist(root, 'core/version/version-text.js');
  const { systemClock } = await dist(root, 'core/clock.js');
  const { default: nodemailer } = await import('nodemailer');
  const agents = JSON.parse(fs.readFileSync(spec.privateKeys, 'utf8'));
  const versionText = formatVersionText({
    softwareVersion: spec.version,
    modules: [{ name: 'big.bin', version: '1.0.00', date: '2026/11/24' }],
  });
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    host: '127.0.0.1',
    port: spec.ports.smtp,
    secure: false,
    ignoreTLS: true,
  });
  try {
    await pool(agents.length, 16, async (i) => {
      const agent = agents[i];
      const key = await openpgp.readPrivateKey({ armoredKey: agent.privateArmored });
      const payload = buildPayload({
        type: 'version-report',
        from: agent.id,
        to: [spec.hostId],
        body: { softwareVersion: spec.version, versionText },
        ttlMs: 7 * 86_400_000,
        clock: systemClock,
        inReplyTo: `bench-${spec.round}-${i}`,
      });
      const subject = `version report: ${agent.id} runs ${spec.version}`;
      const { raw } = await composeMail({
        from: agent.address,
        to: spec.hostAddress,
        subject: `[rds] ${subject}`,
        text: `${subject}\n\n${versionText}`,
        type: 'version-report',
        payloadId: payload.id,
        armoredPayload: await signPayload(payload, key),
        attachments: [{ filename: VERSIONS_ATTACHMENT, content: Buffer.from(versionText), contentType: 'text/plain; charset=utf-8' }],
      });
      await transport.sendMail({ envelope: { from: agent.address, to: [spec.hostAddress] }, raw });
    });
  } finally {
    transport.close();
  }
}

const tlsOf = (spec) => ({ ca: fs.readFileSync(spec.ca), minVersion: 'TLSv1.2' });

/**
 * Baseline of `push-all`: the same number of mails of the same size to the same addresses,
 * through a nodemailer pool of the size rds uses, STARTTLS + AUTH on the submission port.
 * Each mail gets its own To and Message-ID header in front of one shared, pre-encoded body
 * (nothing is signed or composed per mail: the bare cost of moving the bytes).
 */
async function send(specFile) {
  const spec = readSpec(specFile);
  const { default: nodemailer } = await import('nodemailer');
  const body = fs.readFileSync(spec.template);
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: spec.maxConnections,
    host: '127.0.0.1',
    port: spec.ports.submit,
    secure: false,
    requireTLS: true,
    tls: tlsOf(spec),
    auth: { user: spec.hostAddress, pass: spec.password },
  });
  const run = Date.now().toString(36);
  let sent = 0;
  try {
    await pool(spec.recipients.length, spec.concurrency, async (i) => {
      const to = spec.recipients[i];
      const head = Buffer.from(`To: ${to}\r\nMessage-ID: <bench-${run}-${i}@example.test>\r\n`);
      const info = await transport.sendMail({ envelope: { from: spec.hostAddress, to: [to] }, raw: Buffer.concat([head, body]) });
      if (info.rejected?.length) throw new Error(`rejected: ${info.rejected}`);
      sent++;
    });
  } finally {
    transport.close();
  }
  process.stdout.write(`${JSON.stringify({ sent, bytes: body.length })}\n`);
}

/** Baseline of the inbox pass: one IMAP session, every source in INBOX, logout. */
async function fetchAll(specFile) {
  const spec = readSpec(specFile);
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: spec.ports.imap,
    secure: false,
    doSTARTTLS: true,
    tls: tlsOf(spec),
    auth: { user: spec.hostAddress, pass: spec.password },
    logger: false,
  });
  await client.connect();
  let count = 0;
  let bytes = 0;
  const lock = await client.getMailboxLock('INBOX');
  try {
    for await (const m of client.fetch('1:*', { uid: true, source: true })) {
      count++;
      bytes += m.source.length;
    }
  } finally {
    lock.release();
  }
  await client.logout();
  process.stdout.write(`${JSON.stringify({ count, bytes })}\n`);
}

/**
 * The payload.asc part of an rds mail, found by its file name and decoded from base64: the
 * least parsing that gets at the signed payload (no header decoding, no other part, no
 * check of the mail's structure).
 */
function payloadOf(source) {
  const text = source.toString('latin1');
  const at = text.indexOf('filename=payload.asc');
  if (at < 0) return undefined;
  const start = text.indexOf('\r\n\r\n', at) + 4;
  const end = text.indexOf('\r\n--', start);
  return Buffer.from(text.slice(start, end), 'base64').toString('utf8');
}

/**
 * Honest baseline of the inbox pass: the raw fetch of every source, plus, per mail in one
 * process, openpgp.verify of its payload with the same library against the sender's key
 * (picked by the signature's key ID; every agent's key file parsed once, first). The least
 * secure work possible: no sender, freshness or replay check, no state, nothing moved.
 */
async function fetchVerify(specFile) {
  const spec = readSpec(specFile);
  const { ImapFlow } = await import('imapflow');
  const openpgp = await import('openpgp');
  const keys = new Map(); // key ID (hex) -> parsed public key: every agent's key file, parsed once
  for (const f of fs.readdirSync(spec.publicKeys)) {
    const key = await openpgp.readKey({ armoredKey: fs.readFileSync(path.join(spec.publicKeys, f), 'utf8') });
    for (const id of key.getKeyIDs()) keys.set(id.toHex(), key);
  }
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: spec.ports.imap,
    secure: false,
    doSTARTTLS: true,
    tls: tlsOf(spec),
    auth: { user: spec.hostAddress, pass: spec.password },
    logger: false,
  });
  await client.connect();
  let count = 0;
  let verified = 0;
  const lock = await client.getMailboxLock('INBOX');
  try {
    for await (const m of client.fetch('1:*', { uid: true, source: true })) {
      count++;
      const armored = payloadOf(m.source);
      if (!armored) continue;
      const message = await openpgp.readMessage({ armoredMessage: armored });
      const [issuer] = message.getSigningKeyIDs();
      const key = issuer && keys.get(issuer.toHex());
      if (!key) continue;
      const result = await openpgp.verify({ message, verificationKeys: key, format: 'binary' });
      await result.signatures[0].verified;
      verified++;
    }
  } finally {
    lock.release();
  }
  await client.logout();
  process.stdout.write(`${JSON.stringify({ count, verified })}\n`);
}

const jobs = {
  keys: () => keys(...args),
  reports: () => reports(...args),
  send: () => send(...args),
  fetch: () => fetchAll(...args),
  'fetch-verify': () => fetchVerify(...args),
};
if (!jobs[job]) {
  process.stderr.write(`usage: _mail-fleet.mjs keys|reports|send|fetch|fetch-verify ...\n`);
  process.exit(2);
}
await jobs[job]();
