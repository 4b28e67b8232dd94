// Update packages made by GnuPG 2.2 instead of pack-update, installed by the real binary
// (`rds apply-update FILE`): the package body is decrypted with Node's crypto
// (src/core/package/seipd.ts), openpgp.js checks the host's signature. The tar.gz inside is
// pack-update's own (gpg --decrypt of the host's package), so the manifest, hashes and
// script are rds's; only the OpenPGP layer is GnuPG's: `gpg --sign --encrypt` to the agent
// key with the host key, compressed (GnuPG's default) and not. A flipped octet in the
// GnuPG-made body is PACKAGE_TAMPERED (exit 4), nothing installed, no stage left.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL } from '../../src/core/errors.js';
import {
  type AgentNode,
  currentRelease,
  ensureBuilt,
  type HostNode,
  initAgent,
  initHost,
  rds,
  rdsExpect,
  stageLeftovers,
  tempDir,
  writeScript,
} from '../support/cli.js';

let root: string;
let home: string;
let host: HostNode;
let agent: AgentNode;
let tarGz: string;
let fingerprints: { host: string; agent: string };

function gpg(...args: string[]): Buffer {
  return execFileSync(
    'gpg',
    [
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
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

const fingerprintOf = (asc: string) => /^fpr:+([0-9A-F]+):/m.exec(gpg('--with-colons', '--show-keys', asc).toString())?.[1] as string;

/** pack-update's tar.gz for 1.0.0<minor>-0: the host's package, opened by gpg with the host key. */
async function packedTarGz(version: string): Promise<string> {
  const work = path.join(root, `work-${version}`);
  fs.mkdirSync(work);
  fs.writeFileSync(path.join(work, 'main.cgi'), Buffer.alloc(300_000, version));
  const script = writeScript(path.join(work, 'install.sh'), 'cp -R "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"');
  const pkg = path.join(work, 'update.rdsu');
  await rdsExpect(
    0,
    [
      '--config',
      host.config,
      'pack-update',
      '--software-version',
      version,
      '--script',
      script,
      '--module',
      `main.cgi=1.0.01:${path.join(work, 'main.cgi')}`,
      '-o',
      pkg,
    ],
    { cwd: root },
  );
  const out = path.join(work, 'update.tar.gz');
  fs.writeFileSync(out, gpg('--decrypt', pkg));
  return out;
}

function gpgPackage(name: string, compress: string, from = tarGz): string {
  const out = path.join(root, `${name}.rdsu`);
  gpg('--compress-algo', compress, '-u', fingerprints.host, '-r', fingerprints.agent, '--sign', '--encrypt', '-o', out, from);
  return out;
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-cli-gnupg-pkg-');
  host = await initHost(root);
  agent = await initAgent(root, host, { id: 'AGENTG', register: false });
  home = fs.mkdtempSync('/tmp/rdsg-'); // short: the gpg-agent socket path is limited
  fs.chmodSync(home, 0o700);
  gpg('--import', host.keyFile);
  gpg('--import', path.join(agent.dir, 'keys', 'private.asc'));
  fingerprints = { host: fingerprintOf(host.publicKeyFile), agent: fingerprintOf(agent.publicKeyFile) };
  tarGz = await packedTarGz('1.0.02-0');
}, 120_000);

afterAll(() => {
  try {
    if (home) execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']);
  } finally {
    if (home) fs.rmSync(home, { recursive: true, force: true });
    if (root) fs.rmSync(root, { recursive: true, force: true });
  }
});

describe('apply-update of a package made by GnuPG 2.2', () => {
  it('a flipped octet in its encrypted body: PACKAGE_TAMPERED, exit 4, nothing installed, no stage left', async () => {
    const file = gpgPackage('flipped', 'zlib');
    const bytes = fs.readFileSync(file);
    const at = Math.floor(bytes.length * 0.6);
    bytes[at] = (bytes[at] as number) ^ 0x40;
    fs.writeFileSync(file, bytes);
    const before = currentRelease(agent);
    const r = await rds(['--json', '--config', agent.config, 'apply-update', file], { cwd: root });
    expect(r.code, r.stderr).toBe(4);
    expect(JSON.parse(r.stdout).error.code).toBe(REFUSAL.PACKAGE_TAMPERED);
    expect(currentRelease(agent)).toBe(before);
    expect(stageLeftovers(agent)).toEqual([]);
  });

  it('compressed (zlib, GnuPG’s default): installs, the module byte for byte', async () => {
    const r = await rdsExpect(0, ['--json', '--config', agent.config, 'apply-update', gpgPackage('zlib', 'zlib')], { cwd: root });
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'installed', version: '1.0.02-0' });
    expect(fs.readFileSync(path.join(agent.installRoot, 'current', 'main.cgi')).equals(Buffer.alloc(300_000, '1.0.02-0'))).toBe(true);
  });

  it('not compressed: installs', async () => {
    const next = await packedTarGz('1.0.03-0');
    const r = await rdsExpect(0, ['--json', '--config', agent.config, 'apply-update', gpgPackage('none', 'none', next)], { cwd: root });
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'installed', version: '1.0.03-0' });
    expect(fs.readFileSync(path.join(agent.installRoot, 'current', 'main.cgi')).equals(Buffer.alloc(300_000, '1.0.03-0'))).toBe(true);
  });
});
