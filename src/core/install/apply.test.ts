import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import { generateKeyPair } from '../crypto/keys.js';
import { REFUSAL, type SecurityError, type UsageError } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { UpdateManifest } from '../package/manifest.js';
import { packUpdate, parseModuleSpec } from '../package/pack.js';
import type { Db } from '../store/db.js';
import {
  admit,
  applyUpdate,
  newStage,
  type Prepared,
  prepare,
  record,
  rollBack,
  runScript,
  type Staged,
  stage,
  switchRelease,
} from './apply.js';
import { type InstalledState, readInstalled, readVersionReport } from './installed.js';
import { findJournal } from './journal.js';
import { currentRelease, type InstallLayout } from './layout.js';
import { recoverInterrupted } from './recover.js';
import { installedAgent, removeAgentState } from './testing.js';

// Each step of apply-update on its own, then recovery from a crash between steps: real
// temp dirs, a real SQLite state, real packages made by packUpdate (signed by a host key,
// encrypted to the agent key), a real /bin/sh install script. No fs mocks.
let keysDir: string;
let hostKey: openpgp.PrivateKey;
let agentKey: openpgp.PrivateKey;

async function privateKey(name: string): Promise<openpgp.PrivateKey> {
  const pair = await generateKeyPair(name, `${name.toLowerCase()}@example.test`);
  return openpgp.readPrivateKey({ armoredKey: pair.privateArmored });
}

beforeAll(async () => {
  keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 's21-install-keys-'));
  [hostKey, agentKey] = await Promise.all([privateKey('HOST'), privateKey('A1')]);
});
afterAll(() => fs.rmSync(keysDir, { recursive: true, force: true }));

let dir: string;
let db: Db;
let stateDir: string;
let layout: InstallLayout;

beforeEach(() => {
  ({ dir, stateDir, db, layout } = installedAgent('s21-install-apply-'));
});
afterEach(() => removeAgentState({ dir, stateDir, db }));

const INSTALL =
  '#!/bin/sh\nset -e\ncp "$RDS_PAYLOAD_DIR/modules/main.cgi" "$RDS_RELEASE_DIR/main.cgi"\necho "ran for $RDS_TARGET_VERSION"\n';

/** A package for agent A1, made by the project's own packUpdate. */
async function pack(version: string, options: { script?: string; allowDowngrade?: boolean } = {}) {
  const src = fs.mkdtempSync(path.join(dir, 'src-'));
  fs.writeFileSync(path.join(src, 'install.sh'), options.script ?? INSTALL);
  fs.writeFileSync(path.join(src, 'main.cgi'), `main ${version}`, { mode: 0o755 });
  const file = path.join(dir, `${version}-${path.basename(src)}.rdsu`);
  const manifest = await packUpdate({
    softwareVersion: version,
    script: path.join(src, 'install.sh'),
    modules: [parseModuleSpec(`main.cgi=1.0.01:${path.join(src, 'main.cgi')}`)],
    ...(options.allowDowngrade ? { allowDowngrade: true } : {}),
    encryptionKeys: [agentKey.toPublic()],
    signingKey: hostKey,
    output: file,
  });
  return { file, manifest };
}

const installed = (): InstalledState => readInstalled(db) as InstalledState;
const input = (file: string, extra: { expectedVersion?: string } = {}) => ({
  db,
  layout,
  stateDir,
  file,
  agentKey,
  hostKey: hostKey.toPublic(),
  clock: systemClock,
  logger: silentLogger,
  ...extra,
});

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    return (error as SecurityError | UsageError).code;
  }
  return 'no error';
}

async function staged(version = '1.0.02-0', options: { script?: string } = {}): Promise<Extract<Staged, { kind: 'staged' }>> {
  const { file } = await pack(version, options);
  const result = await stage(input(file), newStage(stateDir), installed());
  if (result.kind !== 'staged') throw new Error(`expected staged, got ${result.kind}`);
  return result;
}

describe('stage', () => {
  it('decrypts, verifies and unpacks into STATE/stage/pkg-*/payload with the recorded modes; the tar is gone', async () => {
    const s = await staged();
    expect(path.dirname(s.stageDir)).toBe(path.join(stateDir, 'stage'));
    expect(s.payloadDir).toBe(path.join(s.stageDir, 'payload'));
    expect(fs.readdirSync(s.stageDir)).toEqual(['payload']);
    expect(fs.readFileSync(path.join(s.payloadDir, 'modules', 'main.cgi'), 'utf8')).toBe('main 1.0.02-0');
    expect(fs.statSync(path.join(s.payloadDir, 'modules', 'main.cgi')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(s.payloadDir, 'install.sh')).mode & 0o777).toBe(0o755);
    expect(s.manifest.softwareVersion).toBe('1.0.02-0');
  });

  it('a package its command did not announce is refused (PACKAGE_MISMATCH) before any file is written', async () => {
    const { file } = await pack('1.0.02-0');
    const stageDir = newStage(stateDir);
    expect(await codeOf(stage(input(file, { expectedVersion: '1.0.03-0' }), stageDir, installed()))).toBe(REFUSAL.PACKAGE_MISMATCH);
    expect(fs.readdirSync(path.join(stageDir, 'payload'))).toEqual([]);
  });

  it('a package installed before is returned as already-installed (no exception), nothing unpacked', async () => {
    const { file, manifest } = await pack('1.0.02-0');
    expect((await applyUpdate(input(file))).outcome).toBe('installed');
    const stageDir = newStage(stateDir);
    const again = await stage(input(file), stageDir, installed());
    expect(again).toEqual({ kind: 'already-installed', manifest });
    expect(fs.readdirSync(path.join(stageDir, 'payload'))).toEqual([]);
  });

  it('a new stage removes what a crash before the journal left under STATE/stage', () => {
    const first = newStage(stateDir);
    fs.writeFileSync(path.join(first, 'package.tar.gz'), 'half');
    const second = newStage(stateDir);
    expect(fs.readdirSync(path.join(stateDir, 'stage'))).toEqual([path.basename(second)]);
  });
});

describe('admit', () => {
  let manifest: UpdateManifest;
  beforeEach(async () => {
    ({ manifest } = await pack('1.0.02-0'));
  });

  it('a newer version, never installed: install', () => {
    expect(admit(db, manifest, '1.0.00-1')).toBe('install');
    expect(admit(db, manifest, '1.0.00-1', '1.0.02-0')).toBe('install');
  });

  it('another version than the command announced: PACKAGE_MISMATCH', async () => {
    expect(await codeOf(() => admit(db, manifest, '1.0.00-1', '1.0.01-0'))).toBe(REFUSAL.PACKAGE_MISMATCH);
  });

  it('a lower version: DOWNGRADE_REFUSED, unless the host signed allowDowngrade', async () => {
    expect(await codeOf(() => admit(db, manifest, '1.0.03-0'))).toBe(REFUSAL.DOWNGRADE_REFUSED);
    expect(admit(db, { ...manifest, allowDowngrade: true }, '1.0.03-0')).toBe('install');
  });

  it('a package whose journal says installed: already-installed (even if the running version moved on)', async () => {
    const { file } = await pack('1.0.02-0');
    await applyUpdate(input(file));
    const done = findJournal(db, (await stage(input(file), newStage(stateDir), installed())).manifest.packageId);
    expect(done?.outcome).toBe('installed');
    const m = JSON.parse(done?.manifest ?? '{}') as UpdateManifest;
    expect(admit(db, m, '1.0.02-0')).toBe('already-installed');
    expect(admit(db, m, '1.0.05-0')).toBe('already-installed');
  });
});

describe('prepare, run, switch, record', () => {
  it('prepare journals staged then preparing and copies the current release to the new one', async () => {
    const s = await staged();
    const p = prepare(input(''), s, installed());
    expect(findJournal(db, s.manifest.packageId)).toMatchObject({ step: 'preparing', outcome: null, newRelease: p.newRelease });
    expect(fs.readFileSync(path.join(p.newRelease, 'main.cgi'), 'utf8')).toBe('old main');
    expect(currentRelease(layout)).toBe(path.resolve(installed().release));
    expect(p.logFile).toBe(path.join(stateDir, 'logs', `install-${s.manifest.packageId}.log`));
  });

  it('prepare refuses a symlink planted at the install log name (UNTRUSTED_PATH) before the journal starts', async () => {
    const s = await staged();
    fs.mkdirSync(path.join(stateDir, 'logs'), { mode: 0o700 });
    fs.symlinkSync('/etc/passwd', path.join(stateDir, 'logs', `install-${s.manifest.packageId}.log`));
    expect(await codeOf(() => prepare(input(''), s, installed()))).toBe('UNTRUSTED_PATH');
    expect(findJournal(db, s.manifest.packageId)).toBeUndefined();
  });

  it('run: the script works on the new release with the RDS_* environment; its pid is journaled', async () => {
    const s = await staged();
    const p = prepare(input(''), s, installed());
    const run = await runScript(input(''), p);
    expect(run).toMatchObject({ exitCode: 0, signal: null, timedOut: false, logTail: 'ran for 1.0.02-0' });
    expect(fs.readFileSync(path.join(p.newRelease, 'main.cgi'), 'utf8')).toBe('main 1.0.02-0');
    expect(findJournal(db, s.manifest.packageId)?.detail).toMatch(/^script-pid=\d+ boot=/);
    expect(currentRelease(layout)).toBe(path.resolve(installed().release)); // not switched yet
  });

  it('a failing script rolls back: the new release removed, journal rolled-back, current unchanged', async () => {
    const s = await staged('1.0.02-0', { script: '#!/bin/sh\necho "no room"\nexit 7\n' });
    const p = prepare(input(''), s, installed());
    const run = await runScript(input(''), p);
    const result = rollBack(input(''), p, run);
    expect(result).toMatchObject({
      outcome: 'rolled-back',
      version: '1.0.00-1',
      reason: 'install script exited with status 7',
      logTail: 'no room',
    });
    expect(fs.existsSync(p.newRelease)).toBe(false);
    expect(findJournal(db, s.manifest.packageId)).toMatchObject({ step: 'done', outcome: 'rolled-back' });
    expect(readVersionReport(db).softwareVersion).toBe('1.0.00-1');
  });

  it('switch points current at the new release (journal switched); record writes the versions and finishes the journal', async () => {
    const s = await staged();
    const before = installed();
    const p: Prepared = prepare(input(''), s, before);
    await runScript(input(''), p);
    switchRelease(input(''), p);
    expect(currentRelease(layout)).toBe(path.resolve(p.newRelease));
    expect(findJournal(db, s.manifest.packageId)?.step).toBe('switched');
    expect(readVersionReport(db).softwareVersion).toBe('1.0.00-1'); // not recorded yet
    record(input(''), p);
    expect(readVersionReport(db)).toEqual({
      softwareVersion: '1.0.02-0',
      modules: [{ name: 'main.cgi', version: '1.0.01', date: s.manifest.modules[0]?.date }],
    });
    expect(installed().release).toBe(p.newRelease);
    expect(findJournal(db, s.manifest.packageId)).toMatchObject({ step: 'done', outcome: 'installed' });
    expect(fs.existsSync(before.release)).toBe(true); // the previous release is kept
  });
});

describe('recover after a crash between steps', () => {
  it('crashed after running the script, before the switch: undone (old version, new release and stage gone)', async () => {
    const s = await staged();
    const p = prepare(input(''), s, installed());
    await runScript(input(''), p);
    const done = recoverInterrupted(db, layout, systemClock, silentLogger);
    expect(done).toEqual([{ packageId: s.manifest.packageId, outcome: 'rolled-back', step: 'running-script' }]);
    expect(fs.existsSync(p.newRelease)).toBe(false);
    expect(fs.existsSync(s.stageDir)).toBe(false);
    expect(readVersionReport(db).softwareVersion).toBe('1.0.00-1');
    expect(currentRelease(layout)).toBe(path.resolve(installed().release));
  });

  it('crashed after the switch, before the record: finished forward (new version recorded)', async () => {
    const s = await staged();
    const p = prepare(input(''), s, installed());
    await runScript(input(''), p);
    switchRelease(input(''), p);
    const done = recoverInterrupted(db, layout, systemClock, silentLogger);
    expect(done).toEqual([{ packageId: s.manifest.packageId, outcome: 'installed', step: 'switched' }]);
    expect(readVersionReport(db).softwareVersion).toBe('1.0.02-0');
    expect(installed().release).toBe(p.newRelease);
    expect(fs.existsSync(s.stageDir)).toBe(false);
  });

  it('after either recovery the same package installs (or is already installed) on the next apply', async () => {
    const { file } = await pack('1.0.02-0');
    const s = await stage(input(file), newStage(stateDir), installed());
    if (s.kind !== 'staged') throw new Error('expected staged');
    prepare(input(''), s, installed()); // crash while preparing
    const result = await applyUpdate(input(file)); // recovers first, then installs
    expect(result).toMatchObject({ outcome: 'installed', version: '1.0.02-0', previousVersion: '1.0.00-1' });
    expect((await applyUpdate(input(file))).outcome).toBe('already-installed');
    expect(fs.readdirSync(path.join(stateDir, 'stage'))).toEqual([]);
  });
});
