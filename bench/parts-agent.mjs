// Agent side of update parts (issue 13, docs/install.md#update-parts): a package cut into
// part mails of 7,000,000 bytes (each mail under Postfix's 10,240,000 after base64), dropped
// into the agent's Maildir, taken in by ONE `rds poll-mail` pass: parse, check and store
// every part, reassemble, decrypt, unpack and install.
//   reassembly+apply of BENCH_MODULE_MB (default 50) MB   vs  `cat parts | gpg --decrypt | tar xz`
//     (the same bytes: the agent's session-key packets and the parts, decrypted by GnuPG 2.2
//     with the agent's key)
//   peak RSS of the same pass for BENCH_PARTS_RSS_MB (default 200) MB (goal ≤ 150 MB)
// The load average is printed with the figures (the machine may be shared).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, exec, measure, measurePipeline, rowOf, toMB } from './_lib.mjs';

export const title = 'update parts on the agent: reassembly + apply vs cat | gpg --decrypt | tar xz';

const PART = 7_000_000;

function writeRandom(file, mb) {
  const fd = fs.openSync(file, 'w');
  for (let left = mb * 2 ** 20; left > 0; left -= 4 * 2 ** 20) fs.writeSync(fd, randomBytes(Math.min(left, 4 * 2 ** 20)));
  fs.closeSync(fd);
}

export async function nodes(ctx, t) {
  const rds = (...args) => [process.execPath, ctx.bin, ...args];
  const mail = `maildir://${path.join(t, 'mail')}`;
  const hostDir = path.join(t, 'host');
  const agentDir = path.join(t, 'agent');
  exec(rds('init', '--role', 'host', '--id', 'HOST', '--address', 'host@bench.example', '--smtp', mail, '--imap', mail, '--dir', hostDir));
  const hostConfig = path.join(hostDir, 'config.json');
  fs.writeFileSync(path.join(t, 'host.asc'), JSON.parse(exec(rds('--json', '--config', hostConfig, 'keys', 'export'))).publicKey);
  exec(
    rds(
      ...['init', '--role', 'agent', '--id', 'AGENT0000001', '--address', 'agent1@bench.example'],
      ...['--host-address', 'host@bench.example', '--host-key', path.join(t, 'host.asc')],
      ...['--smtp', mail, '--imap', mail, '--software-version', '1.0.00-1', '--dir', agentDir],
    ),
  );
  const agentConfig = path.join(agentDir, 'config.json');
  const agentKey = JSON.parse(exec(rds('--json', '--config', agentConfig, 'keys', 'export')));
  fs.writeFileSync(path.join(t, 'agent.asc'), agentKey.publicKey);
  const pristine = path.join(t, 'agent.pristine');
  fs.cpSync(agentDir, pristine, { recursive: true, verbatimSymlinks: true });
  return { rds, hostDir, hostConfig, agentDir, agentConfig, pristine, inbox: path.join(t, 'mail', 'agent1@bench.example', 'new') };
}

/** pack-update of one random module of `mb` MB, wrapped for the agent, cut into part files and signed part mails. */
export async function partsOf(ctx, t, n, mb) {
  const dist = (p) => import(pathToFileURL(path.join(ctx.root, 'dist', ...p.split('/'))).href);
  const [wrap, keys, payloadMod, mailMod, partMod] = await Promise.all(
    ['core/package/wrap.js', 'core/crypto/keys.js', 'core/message/payload.js', 'core/message/mail.js', 'core/protocol/update-part.js'].map(
      dist,
    ),
  );
  const work = path.join(t, `work-${mb}`);
  fs.mkdirSync(path.join(work, 'modules'), { recursive: true });
  writeRandom(path.join(work, 'modules', 'big.bin'), mb);
  const script = path.join(work, 'install.sh');
  fs.writeFileSync(script, '#!/bin/sh\nset -e\nmv "$RDS_PAYLOAD_DIR/modules/"* "$RDS_RELEASE_DIR/"\n', { mode: 0o755 });
  const pkg = path.join(work, 'update.rdsu');
  exec(
    n.rds(
      '--config',
      n.hostConfig,
      'pack-update',
      '--software-version',
      '1.0.02-0',
      '--script',
      script,
      '--module',
      `big.bin=1.0.00:${path.join(work, 'modules', 'big.bin')}`,
      '-o',
      pkg,
    ),
  );
  fs.rmSync(path.join(work, 'modules'), { recursive: true });
  const hostKey = await keys.readPrivateKeyFile(path.join(n.hostDir, 'keys', 'private.asc'));
  const split = wrap.splitPackage(wrap.readPackageFile(pkg));
  const sessionKey = await wrap.recoverSessionKey(split.prefix, hostKey);
  const pkesk = await wrap.wrapSessionKey(sessionKey, await keys.readPublicKeyFile(path.join(t, 'agent.asc')));
  const raw = path.join(work, 'raw');
  const mails = path.join(work, 'mails');
  fs.mkdirSync(raw);
  fs.mkdirSync(mails);
  fs.writeFileSync(path.join(raw, '0000.pkesk'), pkesk);
  const chunks = [];
  for (let at = 0; at < split.body.length; at += PART) chunks.push(split.body.subarray(at, at + PART));
  const { createHash, randomUUID } = await import('node:crypto');
  const hashes = chunks.map((c) => createHash('sha256').update(c).digest('hex'));
  for (const [i, chunk] of chunks.entries()) {
    const name = String(i + 1).padStart(4, '0');
    fs.writeFileSync(path.join(raw, `${name}.part`), chunk);
    const body = {
      rolloutId: 'R-bench',
      packageId: randomUUID(),
      softwareVersion: '1.0.02-0',
      part: i + 1,
      parts: chunks.length,
      sha256: hashes[i],
    };
    if (i === 0) body.first = { pkesk: Buffer.from(pkesk).toString('base64'), totalSize: split.body.length, partHashes: hashes };
    body.packageId = 'P-bench';
    const issued = new Date();
    const id = randomUUID();
    const payload = {
      format: 1,
      type: 'update-part',
      id,
      from: 'HOST',
      to: ['AGENT0000001'],
      issuedAt: issued.toISOString(),
      expiresAt: new Date(issued.getTime() + 86_400_000).toISOString(),
      body: partMod.encodeUpdatePart(body),
    };
    const armoredPayload = await payloadMod.signPayload(payload, hostKey);
    const { raw: mail } = await mailMod.composeMail({
      from: 'host@bench.example',
      to: 'agent1@bench.example',
      subject: `part ${i + 1}`,
      text: 'part',
      type: 'update-part',
      payloadId: id,
      armoredPayload,
      attachments: [{ filename: 'update.part', content: Buffer.from(chunk) }],
    });
    fs.writeFileSync(path.join(mails, `${name}.mail`), mail);
  }
  return { raw, mails, count: chunks.length };
}

/** The agent as new, its inbox holding the part mails (delivered in reverse order). */
export function reset(n, parts) {
  fs.rmSync(n.agentDir, { recursive: true, force: true });
  fs.rmSync(path.dirname(n.inbox), { recursive: true, force: true });
  fs.cpSync(n.pristine, n.agentDir, { recursive: true, verbatimSymlinks: true });
  for (const sub of ['new', 'cur', 'tmp']) fs.mkdirSync(path.join(path.dirname(n.inbox), sub), { recursive: true, mode: 0o700 });
  for (const [i, f] of fs.readdirSync(parts.mails).sort().reverse().entries()) {
    fs.copyFileSync(path.join(parts.mails, f), path.join(n.inbox, `${1_700_000_000 + i}.M${i}P1.bench`));
  }
}

async function pollOnce(n) {
  const r = await measure(n.rds('--config', n.agentConfig, 'poll-mail'));
  if (!/: installed$/m.test(r.stdout)) throw new Error(`poll-mail did not install:\n${r.stdout}${r.stderr}`);
  return r;
}

export async function run(ctx) {
  const mb = Number(process.env.BENCH_MODULE_MB ?? 50);
  const rssMb = Number(process.env.BENCH_PARTS_RSS_MB ?? 200);
  const t = ctx.tmp;
  ctx.log('making the nodes');
  const n = await nodes(ctx, t);
  const home = fs.mkdtempSync('/tmp/rdsg-');
  fs.chmodSync(home, 0o700);
  const gpg = [
    'gpg',
    '--homedir',
    home,
    '--batch',
    '--yes',
    '--quiet',
    '--pinentry-mode',
    'loopback',
    '--passphrase',
    '',
    '--trust-model',
    'always',
  ];
  try {
    exec([...gpg, '--import', path.join(n.hostDir, 'keys', 'private.asc')]);
    exec([...gpg, '--import', path.join(n.agentDir, 'keys', 'private.asc')]);
    const gpgVersion = exec(['gpg', '--version']).split('\n')[0];
    ctx.log(`a ${mb} MB module cut into part mails`);
    const parts = await partsOf(ctx, t, n, mb);
    const out = path.join(t, 'gpg-out');
    const rawFiles = fs
      .readdirSync(parts.raw)
      .sort()
      .map((f) => path.join(parts.raw, f));
    ctx.log(`reassembly+apply: ${ctx.runs} runs each (+1 warm-up), alternating; the agent reset before each run`);
    const load0 = os.loadavg()[0];
    const apply = await compare(
      ctx.runs,
      () => pollOnce(n),
      () =>
        measurePipeline([
          ['cat', ...rawFiles],
          [...gpg, '--decrypt'],
          ['tar', 'xzf', '-', '-C', out],
        ]),
      {
        before: async (side) => {
          if (side === 'a') reset(n, parts);
          else {
            fs.rmSync(out, { recursive: true, force: true });
            fs.mkdirSync(out);
          }
        },
      },
    );
    fs.rmSync(path.join(t, `work-${mb}`), { recursive: true, force: true });
    ctx.log(`peak RSS: a ${rssMb} MB module`);
    const big = await partsOf(ctx, t, n, rssMb);
    reset(n, big);
    const rss = await pollOnce(n);
    const load1 = os.loadavg()[0];
    const note = `${mb} MB in ${parts.count} parts of ${PART} bytes, ${rssMb} MB in ${big.count}; baseline ${gpgVersion}; runs (ms) rds ${apply.a.all.join('/')} gpg ${apply.b.all.join('/')}; load ${load0.toFixed(1)} → ${load1.toFixed(1)} (1-min, ${os.cpus().length} CPU)`;
    return {
      note,
      rows: [
        rowOf(`parts: reassembly+apply ${mb} MB (poll-mail)`, apply, 'ms', { on: 'ratio', max: 1.3, text: '≤ 1.3× cat | gpg | tar' }),
        rowOf('parts: reassembly+apply CPU (user+sys)', apply, 'cpuMs'),
        rowOf('parts: reassembly+apply peak RSS', apply, 'rssKB'),
        {
          name: `parts: peak RSS, ${rssMb} MB package`,
          value: toMB(rss.rssKB),
          baseline: null,
          ratio: null,
          unit: 'MB',
          goal: { on: 'value', max: 150, text: '≤ 150 MB' },
        },
      ],
    };
  } finally {
    try {
      exec(['gpgconf', '--homedir', home, '--kill', 'gpg-agent']);
    } catch {
      /* no agent started */
    }
    fs.rmSync(home, { recursive: true, force: true });
  }
}
