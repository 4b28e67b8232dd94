import fs from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import { generateKeyPair } from '../crypto/keys.js';
import { REFUSAL, type SecurityError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { validateManifest } from '../package/manifest.js';
import { HEALTH_CHECK_NAME, packUpdate, parseModuleSpec } from '../package/pack.js';
import type { Db } from '../store/db.js';
import {
  applyUpdate,
  HEALTH_CHECK_FAILED,
  newStage,
  type Prepared,
  prepare,
  runHealthCheck,
  runScript,
  type Staged,
  stage,
  switchRelease,
} from './apply.js';
import { type InstalledState, readInstalled, readVersionReport } from './installed.js';
import { findJournal, markStep, observeJournalSteps, type Step } from './journal.js';
import { currentRelease, type InstallLayout } from './layout.js';
import { recoverInterrupted } from './recover.js';
import { installedAgent, removeAgentState } from './testing.js';

// The health check (docs/install.md#health-check): a script of the package that runs after
// the switch with the new release current; failing or timing out, it switches back. Real
// temp dirs, a real SQLite state, real packages made by packUpdate, a real /bin/sh.
let hostKey: openpgp.PrivateKey;
let agentKey: openpgp.PrivateKey;

async function privateKey(name: string): Promise<openpgp.PrivateKey> {
  const pair = await generateKeyPair(name, `${name.toLowerCase()}@example.test`);
  return openpgp.readPrivateKey({ armoredKey: pair.privateArmored });
}

beforeAll(async () => {
  [hostKey, agentKey] = await Promise.all([privateKey('HOST'), privateKey('A1')]);
});

let dir: string;
let db: Db;
let stateDir: string;
let layout: InstallLayout;
let oldRelease: string;

beforeEach(() => {
  ({ dir, stateDir, db, layout, release: oldRelease } = installedAgent('s22-health-'));
});
afterEach(() => {
  observeJournalSteps(undefined);
  removeAgentState({ dir, stateDir, db });
});
afterAll(() => observeJournalSteps(undefined));

const INSTALL = '#!/bin/sh\nset -e\ncp "$RDS_PAYLOAD_DIR/modules/main.cgi" "$RDS_RELEASE_DIR/main.cgi"\necho "installed"\n';
/** Passes only when `current` is the new release, holding the new module. */
const CHECK_CURRENT =
  '#!/bin/sh\nset -e\ntest "$(cat "$RDS_INSTALL_ROOT/current/main.cgi")" = "main $RDS_TARGET_VERSION"\necho "healthy: $(cat "$RDS_INSTALL_ROOT/current/main.cgi")"\n';

async function pack(version: string, healthCheck?: string, timeoutSeconds?: number) {
  const src = fs.mkdtempSync(path.join(dir, 'src-'));
  fs.writeFileSync(path.join(src, 'install.sh'), INSTALL);
  fs.writeFileSync(path.join(src, 'main.cgi'), `main ${version}`, { mode: 0o755 });
  if (healthCheck !== undefined) fs.writeFileSync(path.join(src, 'check.sh'), healthCheck, { mode: 0o644 });
  const file = path.join(dir, `${version}-${path.basename(src)}.rdsu`);
  const manifest = await packUpdate({
    softwareVersion: version,
    script: path.join(src, 'install.sh'),
    ...(healthCheck !== undefined ? { healthCheck: path.join(src, 'check.sh') } : {}),
    modules: [parseModuleSpec(`main.cgi=1.0.01:${path.join(src, 'main.cgi')}`)],
    ...(timeoutSeconds ? { timeoutSeconds } : {}),
    encryptionKeys: [agentKey.toPublic()],
    signingKey: hostKey,
    output: file,
  });
  return { file, manifest };
}

const installed = (): InstalledState => readInstalled(db) as InstalledState;
const input = (file: string) => ({
  db,
  layout,
  stateDir,
  file,
  agentKey,
  hostKey: hostKey.toPublic(),
  clock: systemClock,
  logger: silentLogger,
});

/** The steps journaled from now on, each once (a step re-journaled with the script's pid counts once). */
function watchSteps(): Step[] {
  const steps: Step[] = [];
  observeJournalSteps((step) => {
    if (steps.at(-1) !== step) steps.push(step);
  });
  return steps;
}

describe('the package carries the health check', () => {
  it('pack-update adds it as health-check.sh (0755), hashed and named in the signed manifest; stage unpacks it', async () => {
    const { file, manifest } = await pack('1.0.02-0', CHECK_CURRENT);
    expect(manifest.healthCheck).toBe(HEALTH_CHECK_NAME);
    expect(manifest.files[HEALTH_CHECK_NAME]).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.modes?.[HEALTH_CHECK_NAME]).toBe('0755');
    const s = await stage(input(file), newStage(stateDir), installed());
    if (s.kind !== 'staged') throw new Error(`expected staged, got ${s.kind}`);
    expect(fs.readFileSync(path.join(s.payloadDir, HEALTH_CHECK_NAME), 'utf8')).toBe(CHECK_CURRENT);
  });

  it('a package without one has no healthCheck field (an old agent reads it as before)', async () => {
    const { manifest } = await pack('1.0.02-0');
    expect('healthCheck' in manifest).toBe(false);
  });

  it.each([
    ['not among the files', 'other.sh', /healthCheck 'other.sh' is not among the files/],
    ['not a plain name', '../x.sh', /healthCheck is not a plain file name/],
    ['the install script itself', 'install.sh', /healthCheck 'install.sh' is the install script/],
  ])('a manifest whose healthCheck is %s is PACKAGE_MANIFEST_INVALID', async (_what, name, message) => {
    const { manifest } = await pack('1.0.02-0', CHECK_CURRENT);
    let error: SecurityError | undefined;
    try {
      validateManifest({ ...manifest, healthCheck: name });
    } catch (e) {
      error = e as SecurityError;
    }
    expect(error?.code).toBe(REFUSAL.PACKAGE_MANIFEST_INVALID);
    expect(error?.message).toMatch(message);
  });
});

describe('apply with a health check', () => {
  it('passing: runs after the switch with the new release current, journaled; then installed', async () => {
    const { file } = await pack('1.0.02-0', CHECK_CURRENT);
    const steps = watchSteps();
    const result = await applyUpdate(input(file));
    expect(result).toMatchObject({ outcome: 'installed', version: '1.0.02-0', previousVersion: '1.0.00-1' });
    expect(result.logTail).toMatch(/installed\nrds: health check \(health-check\.sh\) of 1\.0\.02-0\nhealthy: main 1\.0\.02-0$/);
    expect(steps.slice(-4)).toEqual(['switching', 'switched', 'health-check', 'healthy']);
    expect(readVersionReport(db).softwareVersion).toBe('1.0.02-0');
    expect(currentRelease(layout)).toBe(path.resolve(installed().release));
  });

  it('failing: switched back, the new release removed, the installed version unchanged, HEALTH_CHECK_FAILED', async () => {
    const { file, manifest } = await pack('1.0.02-0', '#!/bin/sh\necho "service did not answer"\nexit 3\n');
    const steps = watchSteps();
    const result = await applyUpdate(input(file));
    expect(result).toMatchObject({
      outcome: 'rolled-back',
      version: '1.0.00-1',
      previousVersion: '1.0.00-1',
      reason: 'health check exited with status 3',
      reasonCode: HEALTH_CHECK_FAILED,
    });
    expect(result.logTail).toMatch(/service did not answer$/);
    expect(steps.slice(-3)).toEqual(['switched', 'health-check', 'switching-back']);
    expect(currentRelease(layout)).toBe(path.resolve(oldRelease));
    expect(fs.readFileSync(path.join(layout.current, 'main.cgi'), 'utf8')).toBe('old main');
    expect(fs.readdirSync(layout.releases)).toEqual([path.basename(oldRelease)]);
    expect(readVersionReport(db).softwareVersion).toBe('1.0.00-1');
    expect(findJournal(db, manifest.packageId)).toMatchObject({ outcome: 'rolled-back', detail: 'health check exited with status 3' });
  });

  it('timing out (the install timeout rules): switched back, reason names the timeout', async () => {
    const { file } = await pack('1.0.02-0', '#!/bin/sh\necho waiting\nexec sleep 60\n', 1);
    const result = await applyUpdate(input(file));
    expect(result).toMatchObject({
      outcome: 'rolled-back',
      reason: 'health check timed out after 1s',
      reasonCode: HEALTH_CHECK_FAILED,
    });
    expect(currentRelease(layout)).toBe(path.resolve(oldRelease));
  });

  it('the same package may be tried again after a failed health check (it is not already-installed)', async () => {
    const { file } = await pack('1.0.02-0', '#!/bin/sh\nexit 1\n');
    expect((await applyUpdate(input(file))).outcome).toBe('rolled-back');
    expect((await applyUpdate(input(file))).outcome).toBe('rolled-back');
  });

  it('the health check sees the install environment only (no secrets of the agent)', async () => {
    process.env.RDS_SMTP_PASSWORD = 'secret-in-env';
    try {
      const { file } = await pack('1.0.02-0', '#!/bin/sh\nenv | sort | cut -d= -f1 | tr "\\n" " "\n');
      const result = await applyUpdate(input(file));
      expect(result.logTail?.split('\n').at(-1)).toBe(
        'LANG PATH PWD RDS_INSTALL_ROOT RDS_PACKAGE_ID RDS_PAYLOAD_DIR RDS_PREVIOUS_RELEASE_DIR RDS_PREVIOUS_VERSION RDS_RELEASE_DIR RDS_TARGET_VERSION ',
      );
    } finally {
      delete process.env.RDS_SMTP_PASSWORD;
    }
  });
});

describe('recover after a crash around the health check', () => {
  async function switched(check = CHECK_CURRENT): Promise<{ s: Extract<Staged, { kind: 'staged' }>; p: Prepared }> {
    const { file } = await pack('1.0.02-0', check);
    const s = await stage(input(file), newStage(stateDir), installed());
    if (s.kind !== 'staged') throw new Error(`expected staged, got ${s.kind}`);
    const p = prepare(input(''), s, installed());
    await runScript(input(''), p);
    switchRelease(input(''), p);
    return { s, p };
  }

  function expectOld(p: Prepared): void {
    expect(currentRelease(layout)).toBe(path.resolve(oldRelease));
    expect(fs.existsSync(p.newRelease)).toBe(false);
    expect(readVersionReport(db).softwareVersion).toBe('1.0.00-1');
    expect(installed().release).toBe(oldRelease);
  }

  it("crashed after 'switched', before the health check ran: undone (never installed without it)", async () => {
    const { s, p } = await switched();
    const done = recoverInterrupted(db, layout, systemClock, silentLogger);
    expect(done).toEqual([{ packageId: s.manifest.packageId, outcome: 'rolled-back', step: 'switched' }]);
    expectOld(p);
  });

  it("crashed during the health check ('health-check'): undone, current back at the old release", async () => {
    const { s, p } = await switched();
    markStep(db, s.manifest.packageId, 'health-check', systemClock.now());
    const done = recoverInterrupted(db, layout, systemClock, silentLogger);
    expect(done).toEqual([{ packageId: s.manifest.packageId, outcome: 'rolled-back', step: 'health-check' }]);
    expectOld(p);
    expect(findJournal(db, s.manifest.packageId)?.detail).toBe("interrupted at step 'health-check'; rolled back");
  });

  it("crashed while switching back ('switching-back'): undone", async () => {
    const { s, p } = await switched();
    markStep(db, s.manifest.packageId, 'switching-back', systemClock.now());
    const done = recoverInterrupted(db, layout, systemClock, silentLogger);
    expect(done).toEqual([{ packageId: s.manifest.packageId, outcome: 'rolled-back', step: 'switching-back' }]);
    expectOld(p);
  });

  it("crashed after the health check passed ('healthy'), before the record: finished forward", async () => {
    const { s, p } = await switched();
    const run = await runHealthCheck(input(''), p);
    expect(run?.exitCode).toBe(0);
    expect(findJournal(db, s.manifest.packageId)?.step).toBe('healthy');
    const done = recoverInterrupted(db, layout, systemClock, silentLogger);
    expect(done).toEqual([{ packageId: s.manifest.packageId, outcome: 'installed', step: 'healthy' }]);
    expect(readVersionReport(db).softwareVersion).toBe('1.0.02-0');
    expect(installed().release).toBe(p.newRelease);
    expect(currentRelease(layout)).toBe(path.resolve(p.newRelease));
  });

  it('a health check left running by the crash is killed before the release is removed', async () => {
    const marker = path.join(dir, 'still-running');
    const { s, p } = await switched(`#!/bin/sh\nsleep 2\ntouch "${marker}"\n`);
    const running = runHealthCheck(input(''), p);
    const detail = () => findJournal(db, s.manifest.packageId)?.detail ?? '';
    for (let i = 0; i < 200 && !/script-pid=/.test(detail()); i++) await new Promise((r) => setTimeout(r, 10));
    expect(detail()).toMatch(/^script-pid=\d+ boot=/);
    recoverInterrupted(db, layout, systemClock, silentLogger);
    const run = await running;
    expect(run?.signal).toBe('SIGKILL');
    expect(fs.existsSync(marker)).toBe(false);
    expectOld(p);
  });
});
