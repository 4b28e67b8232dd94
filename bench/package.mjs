// Update package with one 50 MB module (random bytes: the worst case for gzip):
//   pack   `rds pack-update`              vs `tar czf - … | gpg --sign --encrypt -r AGENT`
//   apply  `rds apply-update` (full run)  vs `gpg --decrypt PKG | tar xzf -`
// GnuPG 2.2 runs with the same keys (imported into a temp GNUPGHOME; batch, loopback
// pinentry, no passphrase). The install script only moves the payload into the release
// (`mv`), so apply measures the package machinery, not a copy the script chose to make.
// BENCH_MODULE_MB changes the module size.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare, exec, measure, measurePipeline, ratio, rowOf } from './_lib.mjs';

export const title = 'update package: rds vs tar + GnuPG 2.2';

export async function run(ctx) {
  const mb = Number(process.env.BENCH_MODULE_MB ?? 50);
  const t = ctx.tmp;
  const rds = (...args) => [process.execPath, ctx.bin, ...args];
  const mail = `maildir://${path.join(t, 'mail')}`;

  // ---- setup (not measured) ----------------------------------------------------------
  ctx.log(`making a ${mb} MB module and the nodes`);
  const work = path.join(t, 'work');
  fs.mkdirSync(path.join(work, 'modules'), { recursive: true });
  const module = path.join(work, 'modules', 'big.bin');
  const fd = fs.openSync(module, 'w');
  for (let left = mb * 2 ** 20; left > 0; left -= 4 * 2 ** 20) fs.writeSync(fd, randomBytes(Math.min(left, 4 * 2 ** 20)));
  fs.closeSync(fd);
  const script = path.join(work, 'install.sh');
  fs.writeFileSync(script, '#!/bin/sh\nset -e\nmv "$RDS_PAYLOAD_DIR/modules/"* "$RDS_RELEASE_DIR/"\n', { mode: 0o755 });

  const hostDir = path.join(t, 'host');
  const agentDir = path.join(t, 'agent');
  exec(rds('init', '--role', 'host', '--id', 'HOST', '--address', 'host@bench.example', '--smtp', mail, '--imap', mail, '--dir', hostDir));
  const hostConfig = path.join(hostDir, 'config.json');
  const hostKey = JSON.parse(exec(rds('--json', '--config', hostConfig, 'keys', 'export')));
  fs.writeFileSync(path.join(t, 'host.asc'), hostKey.publicKey);
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

  // GnuPG home: short path (the agent socket path is limited), both secret keys imported
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
    exec([...gpg, '--import', path.join(hostDir, 'keys', 'private.asc')]);
    exec([...gpg, '--import', path.join(agentDir, 'keys', 'private.asc')]);
    const gpgVersion = exec(['gpg', '--version']).split('\n')[0];

    // ---- pack ------------------------------------------------------------------------
    const rdsPkg = path.join(t, 'update.rdsu');
    const gpgPkg = path.join(t, 'update.tar.gz.gpg');
    ctx.log(`pack: ${ctx.runs} runs each (+1 warm-up), alternating`);
    const pack = await compare(
      ctx.runs,
      () =>
        measure(
          rds(
            '--config',
            hostConfig,
            'pack-update',
            '--software-version',
            '1.0.02-0',
            '--script',
            script,
            '--module',
            `big.bin=1.0.00:${module}`,
            '-o',
            rdsPkg,
          ),
        ),
      () =>
        measurePipeline(
          [
            ['tar', 'czf', '-', '-C', work, 'install.sh', 'modules'],
            [...gpg, '-u', hostKey.fingerprint, '-r', agentKey.fingerprint, '--sign', '--encrypt', '-o', gpgPkg],
          ],
          { cwd: t },
        ),
    );

    // ---- apply -----------------------------------------------------------------------
    // what push-all does: re-wrap the host's package for the agent
    const wrap = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'package', 'wrap.js')).href);
    const keys = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'crypto', 'keys.js')).href);
    const split = wrap.splitPackage(wrap.readPackageFile(rdsPkg));
    const sessionKey = await wrap.recoverSessionKey(split.prefix, await keys.readPrivateKeyFile(path.join(hostDir, 'keys', 'private.asc')));
    const agentPkg = path.join(t, 'update.agent1.rdsu');
    fs.writeFileSync(agentPkg, await wrap.packageForAgent(split, sessionKey, await keys.readPublicKeyFile(path.join(t, 'agent.asc'))));

    // which way the agent opens the body: Node's crypto (src/core/package/seipd.ts) or openpgp.js
    const unpack = await import(pathToFileURL(path.join(ctx.root, 'dist', 'core', 'package', 'unpack.js')).href);
    const route = await unpack.decryptionRoute(agentPkg, await keys.readPrivateKeyFile(path.join(agentDir, 'keys', 'private.asc')));

    const out = path.join(t, 'gpg-out');
    ctx.log(`apply: ${ctx.runs} runs each (+1 warm-up), alternating; the agent state is reset before each run`);
    const apply = await compare(
      ctx.runs,
      async () => {
        const r = await measure(rds('--config', agentConfig, 'apply-update', agentPkg));
        if (!/^installed 1\.0\.02-0/.test(r.stdout)) throw new Error(`apply-update did not install:\n${r.stdout}${r.stderr}`);
        return r;
      },
      () =>
        measurePipeline([
          [...gpg, '--decrypt', gpgPkg],
          ['tar', 'xzf', '-', '-C', out],
        ]),
      {
        before: async (side) => {
          if (side === 'a') {
            fs.rmSync(agentDir, { recursive: true, force: true });
            fs.cpSync(pristine, agentDir, { recursive: true, verbatimSymlinks: true });
          } else {
            fs.rmSync(out, { recursive: true, force: true });
            fs.mkdirSync(out);
          }
        },
      },
    );

    const size = (f) => fs.statSync(f).size / 2 ** 20;
    const note = `${mb} MB module; body decrypted by ${route}; baseline ${gpgVersion}; runs (ms) rds ${pack.a.all.join('/')} gpg ${pack.b.all.join('/')} | apply rds ${apply.a.all.join('/')} gpg ${apply.b.all.join('/')}`;
    return {
      note,
      rows: [
        rowOf('pack-update: time', pack, 'ms', { on: 'ratio', max: 1.0, text: '≤ 1.0× GnuPG' }),
        rowOf('pack-update: CPU (user+sys)', pack, 'cpuMs'),
        rowOf('pack-update: peak RSS', pack, 'rssKB'),
        { name: 'package size', value: size(rdsPkg), baseline: size(gpgPkg), ratio: ratio(size(rdsPkg), size(gpgPkg)), unit: 'MB' },
        rowOf('apply-update: time', apply, 'ms', { on: 'ratio', max: 1.2, text: '≤ 1.2× GnuPG' }),
        rowOf('apply-update: CPU (user+sys)', apply, 'cpuMs'),
        rowOf('apply-update: peak RSS', apply, 'rssKB', { on: 'value', max: 120, text: '≤ 120 MB' }),
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
