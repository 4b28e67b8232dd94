import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../crypto/keys.js';
import { REFUSAL, SecurityError } from '../errors.js';
import { extractPackage } from './extractor.js';
import { packUpdate, parseModuleSpec } from './pack.js';
import { decryptPackage } from './unpack.js';
import { packageForAgent, readPackageFile, recoverSessionKey, splitPackage } from './wrap.js';

let dir: string;
let host: { priv: openpgp.PrivateKey; pub: openpgp.PublicKey; armoredPriv: string };
let agentA: { priv: openpgp.PrivateKey; pub: openpgp.PublicKey; armoredPriv: string };
let agentB: { priv: openpgp.PrivateKey; pub: openpgp.PublicKey };

async function keys(name: string) {
  const pair = await generateKeyPair(name, `${name}@example.test`);
  return {
    priv: await openpgp.readPrivateKey({ armoredKey: pair.privateArmored }),
    pub: await openpgp.readKey({ armoredKey: pair.publicArmored }),
    armoredPriv: pair.privateArmored,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SecurityError);
    return (error as SecurityError).code;
  }
  return 'no error';
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-pkg-test-'));
  [host, agentA, agentB] = await Promise.all([keys('host'), keys('agent-a'), keys('agent-b')]);
  fs.writeFileSync(path.join(dir, 'install.sh'), '#!/bin/sh\ncp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"\n');
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'lib', 'bbb.lib'), 'library v1.3.06');
  fs.writeFileSync(path.join(dir, 'main.cgi'), Buffer.alloc(100_000, 7));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function makePackage(name: string) {
  const output = path.join(dir, `${name}.rdsu`);
  const manifest = await packUpdate({
    softwareVersion: '1.0.02-0',
    script: path.join(dir, 'install.sh'),
    modules: [parseModuleSpec(`main.cgi=1.0.01:${path.join(dir, 'main.cgi')}`), parseModuleSpec(`bbb.lib=1.3.06:${path.join(dir, 'lib')}`)],
    encryptionKeys: [host.pub],
    signingKey: host.priv,
    output,
  });
  return { output, manifest };
}

describe('update package', () => {
  it('packs once, re-wraps per agent, and only that agent opens it', async () => {
    const { output, manifest } = await makePackage('p1');
    expect(manifest.modules.map((m) => m.name)).toEqual(['main.cgi', 'bbb.lib']);
    const split = splitPackage(readPackageFile(output));
    const sessionKey = await recoverSessionKey(split.prefix, host.priv);
    const forA = path.join(dir, 'a.rdsu');
    fs.writeFileSync(forA, await packageForAgent(split, sessionKey, agentA.pub));
    const tarGz = path.join(dir, 'a.tar.gz');
    await decryptPackage({ file: forA, outFile: tarGz, agentKey: agentA.priv, hostKey: host.pub });
    const stage = path.join(dir, 'stage-a');
    const result = await extractPackage(tarGz, stage);
    expect(result.manifest.packageId).toBe(manifest.packageId);
    expect(fs.readFileSync(path.join(stage, 'modules/bbb.lib/bbb.lib'), 'utf8')).toBe('library v1.3.06');
    expect(
      await codeOf(decryptPackage({ file: forA, outFile: path.join(dir, 'b.tar.gz'), agentKey: agentB.priv, hostKey: host.pub })),
    ).toBe(REFUSAL.PACKAGE_NOT_FOR_ME);
  });

  it('refuses a package with one byte flipped in the encrypted data', async () => {
    const { output } = await makePackage('p2');
    const split = splitPackage(readPackageFile(output));
    const bytes = await packageForAgent(split, await recoverSessionKey(split.prefix, host.priv), agentA.pub);
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] as number) ^ 0x01;
    const file = path.join(dir, 'flipped.rdsu');
    fs.writeFileSync(file, bytes);
    const out = path.join(dir, 'flipped.tar.gz');
    expect(await codeOf(decryptPackage({ file, outFile: out, agentKey: agentA.priv, hostKey: host.pub }))).toBe(REFUSAL.PACKAGE_TAMPERED);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses a package signed by another key', async () => {
    const { output } = await makePackage('p3');
    const split = splitPackage(readPackageFile(output));
    const file = path.join(dir, 'p3-a.rdsu');
    fs.writeFileSync(file, await packageForAgent(split, await recoverSessionKey(split.prefix, host.priv), agentA.pub));
    const code = await codeOf(decryptPackage({ file, outFile: path.join(dir, 'p3.tar.gz'), agentKey: agentA.priv, hostKey: agentB.pub }));
    expect(code).toBe(REFUSAL.UNKNOWN_KEY);
  });

  it('decrypts and verifies with GnuPG 2.2 given the agent key', async () => {
    const { output } = await makePackage('p4');
    const split = splitPackage(readPackageFile(output));
    const file = path.join(dir, 'p4-a.rdsu');
    fs.writeFileSync(file, await packageForAgent(split, await recoverSessionKey(split.prefix, host.priv), agentA.pub));
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-gpg-'));
    try {
      const pubFile = path.join(home, 'host.asc');
      fs.writeFileSync(pubFile, host.pub.armor());
      const privFile = path.join(home, 'agent.asc');
      fs.writeFileSync(privFile, agentA.armoredPriv);
      const gpg = (...args: string[]) =>
        execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      gpg('--import', pubFile);
      gpg('--import', privFile);
      const out = path.join(home, 'out.tar.gz');
      const status = execFileSync(
        'gpg',
        ['--homedir', home, '--batch', '--status-fd', '1', '--trust-model', 'always', '--output', out, '--decrypt', file],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ).toString();
      expect(status).toContain('GOODSIG');
      expect(status).toContain('DECRYPTION_OKAY');
      const listing = execFileSync('tar', ['tzf', out]).toString().split('\n');
      expect(listing[0]).toBe('manifest.json');
      expect(listing).toContain('modules/main.cgi');
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
