import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../crypto/keys.js';
import { REFUSAL, UsageError } from '../errors.js';
import { caseTally } from '../testing.js';
import { extractPackage } from './extractor.js';
import { MANIFEST_FORMAT, validateManifest } from './manifest.js';
import { formatMode, unsafeModeReason } from './modes.js';
import { packUpdate, parseModuleSpec } from './pack.js';
import { decryptPackage } from './unpack.js';

let dir: string;
let key: { priv: openpgp.PrivateKey; pub: openpgp.PublicKey };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-modes-test-'));
  const pair = await generateKeyPair('host', 'host@example.test');
  key = {
    priv: await openpgp.readPrivateKey({ armoredKey: pair.privateArmored }),
    pub: await openpgp.readKey({ armoredKey: pair.publicArmored }),
  };
  fs.writeFileSync(path.join(dir, 'install.sh'), '#!/bin/sh\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function moduleFile(name: string, mode: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${name}\n`);
  fs.chmodSync(file, mode);
  return file;
}

function pack(modules: string[], output: string) {
  return packUpdate({
    softwareVersion: '1.0.02-0',
    script: path.join(dir, 'install.sh'),
    modules: modules.map((m) => parseModuleSpec(m)),
    encryptionKeys: [key.pub],
    signingKey: key.priv,
    output,
  });
}

describe('file modes in update packages', () => {
  it('records each mode at pack and extracts with it (0755 stays executable, 0640 stays 0640)', async () => {
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'lib', 'data.txt'), 'data\n');
    fs.chmodSync(path.join(dir, 'lib', 'data.txt'), 0o640);
    const exe = moduleFile('main.cgi', 0o755);
    const output = path.join(dir, 'p.rdsu');
    const manifest = await pack([`main.cgi=1.0.01:${exe}`, `lib=1.0.01:${path.join(dir, 'lib')}`], output);
    expect(manifest.modes).toEqual({ 'install.sh': '0755', 'modules/main.cgi': '0755', 'modules/lib/data.txt': '0640' });
    const tarGz = path.join(dir, 'p.tar.gz');
    await decryptPackage({ file: output, outFile: tarGz, agentKey: key.priv, hostKey: key.pub });
    const stage = path.join(dir, 'stage');
    await extractPackage(tarGz, stage);
    expect(fs.statSync(path.join(stage, 'modules/main.cgi')).mode & 0o7777).toBe(0o755);
    expect(fs.statSync(path.join(stage, 'modules/lib/data.txt')).mode & 0o7777).toBe(0o640);
    expect(fs.statSync(stage).mode & 0o7777).toBe(0o700);
  });

  for (const [mode, why] of [
    [0o4755, 'setuid/setgid/sticky'],
    [0o2755, 'setuid/setgid/sticky'],
    [0o664, 'group- or world-writable'],
    [0o646, 'group- or world-writable'],
  ] as const) {
    it(`refuses to pack a module file with mode ${formatMode(mode)} (${why})`, async () => {
      const file = moduleFile(`bad-${mode.toString(8)}`, mode);
      const output = path.join(dir, `bad-${mode}.rdsu`);
      const error = await pack([`bad=1.0.01:${file}`], output).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).code).toBe('BAD_MODULE');
      expect((error as Error).message).toContain(`${file} ${unsafeModeReason(mode)} (mode ${formatMode(mode)})`);
      expect(fs.existsSync(output)).toBe(false);
    });
  }
});

describe('manifest modes (property)', () => {
  const base = (modes: Record<string, string>) => ({
    format: MANIFEST_FORMAT,
    packageId: 'abcdefgh-1234',
    softwareVersion: '1.0.02-0',
    allowDowngrade: false,
    script: 'install.sh',
    timeoutSeconds: 60,
    modules: [],
    files: { 'install.sh': 'a'.repeat(64) },
    modes,
    createdAt: new Date(0).toISOString(),
  });

  it('accepts exactly the modes without special bits, group/world write, or a missing owner read', () => {
    // any mode, and modes with the unsafe bits cleared (only 1 in 64 of all modes is safe)
    const t = caseTally();
    const numRuns = 300;
    const mode = fc.oneof(
      fc.integer({ min: 0, max: 0o7777 }),
      fc.integer({ min: 0, max: 0o7777 }).map((m) => m & ~0o7022),
    );
    fc.assert(
      fc.property(mode, (mode) => {
        const ok = (mode & 0o7022) === 0 && (mode & 0o400) !== 0;
        let code = 'accepted';
        try {
          validateManifest(base({ 'install.sh': formatMode(mode) }));
        } catch (error) {
          code = (error as { code: string }).code;
        }
        expect(code).toBe(ok ? 'accepted' : REFUSAL.PACKAGE_MANIFEST_INVALID);
        t.count(ok ? 'decoded' : 'refused');
      }),
      { numRuns },
    );
    t.atLeast('decoded', 0.1, numRuns);
    t.atLeast('refused', 0.3, numRuns);
  });

  it('refuses modes that miss a file or name one the package does not list', () => {
    expect(() => validateManifest(base({}))).toThrow(/modes has no entry for 'install.sh'/);
    expect(() => validateManifest(base({ 'install.sh': '0755', 'x.sh': '0755' }))).toThrow(/modes\['x.sh'\] names a file/);
  });
});
