#!/usr/bin/env node
// Helper child of bench/scale.mjs (not a section). One job per process:
//
//   keys    ROOT CACHE FROM TO   agent key pairs AGENT(FROM..TO) into CACHE/chunk-FROM-TO.json
//                                (written once, renamed into place: a cache other runs reuse)
//   replies ROOT SPEC FROM TO    the signed replies of agents FROM..TO (update-result or
//                                version-report, as an agent's reply() builds them), dropped
//                                into the host's Maildir (untimed setup)
//
// SPEC is a JSON file written by bench/scale.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [job, ...args] = process.argv.slice(2);
const dist = (root, file) => import(pathToFileURL(path.join(root, 'dist', file)).href);

export const agentId = (i) => `AGENT${String(i).padStart(7, '0')}`;

async function keys(root, cache, from, to) {
  const { generateKeyPair } = await dist(root, 'core/crypto/keys.js');
  const rows = [];
  for (let i = Number(from); i <= Number(to); i++) {
    const id = agentId(i);
    const pair = await generateKeyPair(id, `${id.toLowerCase()}@example.test`);
    rows.push({ id, publicArmored: pair.publicArmored, privateArmored: pair.privateArmored });
  }
  const file = path.join(cache, `chunk-${from}-${to}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(rows), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The agents FROM..TO of the cached chunks (each chunk file holds CHUNK agents). */
function cachedAgents(spec, from, to) {
  const out = [];
  for (const chunk of spec.chunks) {
    if (chunk.to < from || chunk.from > to) continue;
    const rows = JSON.parse(fs.readFileSync(chunk.file, 'utf8'));
    for (let i = Math.max(from, chunk.from); i <= Math.min(to, chunk.to); i++) out.push({ n: i, ...rows[i - chunk.from] });
  }
  return out;
}

async function replies(root, specFile, from, to) {
  const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
  const openpgp = await import('openpgp');
  const { buildPayload, signPayload } = await dist(root, 'core/message/payload.js');
  const { composeMail, VERSIONS_ATTACHMENT } = await dist(root, 'core/message/mail.js');
  const { formatVersionText } = await dist(root, 'core/version/version-text.js');
  const { encodeUpdateResult } = await dist(root, 'core/protocol/update-result.js');
  const { systemClock } = await dist(root, 'core/clock.js');
  const { MaildirSender } = await dist(root, 'core/mail/maildir.js');
  const sender = new MaildirSender(spec.mailRoot, { fsync: false });
  const versionText = formatVersionText({
    softwareVersion: spec.version,
    modules: [{ name: 'main.cgi', version: '1.0.02', date: '2026/11/24' }],
  });
  for (const agent of cachedAgents(spec, Number(from), Number(to))) {
    const key = await openpgp.readPrivateKey({ armoredKey: agent.privateArmored });
    const address = spec.addresses[(agent.n - 1) % spec.addresses.length];
    const update = spec.kind === 'update-result';
    const body = update
      ? encodeUpdateResult({
          rolloutId: spec.rolloutId,
          packageId: spec.packageId,
          outcome: 'installed',
          softwareVersion: spec.version,
          versionText,
        })
      : { softwareVersion: spec.version, versionText };
    const payload = buildPayload({ type: spec.kind, from: agent.id, to: [spec.hostId], body, ttlMs: 7 * 86_400_000, clock: systemClock });
    const subject = update ? `update installed: ${agent.id} runs ${spec.version}` : `version report: ${agent.id} runs ${spec.version}`;
    const { raw } = await composeMail({
      from: address,
      to: spec.hostAddress,
      subject: `[rds] ${subject}`,
      text: `${subject}\n\n${versionText}`,
      type: spec.kind,
      payloadId: payload.id,
      armoredPayload: await signPayload(payload, key),
      attachments: [{ filename: VERSIONS_ATTACHMENT, content: Buffer.from(versionText), contentType: 'text/plain; charset=utf-8' }],
    });
    await sender.sendRaw({ from: address, to: [spec.hostAddress] }, raw);
  }
}

const jobs = { keys: () => keys(...args), replies: () => replies(...args) };
if (job !== undefined) {
  if (!jobs[job]) {
    process.stderr.write('usage: _scale-fleet.mjs keys|replies ...\n');
    process.exit(2);
  }
  await jobs[job]();
}
