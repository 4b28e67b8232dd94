import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { auditInstall, auditRollback } from '../audit/outcomes.js';
import type { Clock } from '../clock.js';
import { REFUSAL, SecurityError, UsageError } from '../errors.js';
import { mkdirNoFollow } from '../fs/trust.js';
import type { Logger } from '../logger.js';
import { DEFAULT_EXTRACT_LIMITS, type ExtractLimits } from '../package/extract.js';
import type { UpdateManifest } from '../package/manifest.js';
import type { PackageInput } from '../package/source.js';
import { unpackPackage } from '../package/stage-package.js';
import type { Db } from '../store/db.js';
import { compareVersions } from '../version/version.js';
import { type InstalledState, readInstalled } from './installed.js';
import { findJournal, finishJournal, markStep, startJournal } from './journal.js';
import { type InstallLayout, releaseName, switchCurrent } from './layout.js';
import { bootId, recordInstalled, recoverInterrupted, removeStaleStages } from './recover.js';
import { runInstallScript, type ScriptRun } from './run-script.js';

export interface ApplyInput {
  db: Db;
  layout: InstallLayout;
  stateDir: string;
  /** the package: a file, or its parts read in order */
  file: PackageInput;
  agentKey: openpgp.PrivateKey;
  hostKey: openpgp.PublicKey;
  clock: Clock;
  logger: Logger;
  /** the update command that carried the package, when it came by mail */
  commandId?: string;
  /** the software version the carrying command announced (mix-and-match guard) */
  expectedVersion?: string;
  limits?: ExtractLimits;
}

export type ApplyOutcome = 'installed' | 'already-installed' | 'rolled-back';

/** The reason code of an update rolled back because its health check failed (docs/install.md#health-check). */
export const HEALTH_CHECK_FAILED = 'HEALTH_CHECK_FAILED';

export interface ApplyResult {
  outcome: ApplyOutcome;
  packageId: string;
  version: string;
  previousVersion: string;
  reason?: string;
  /** set when the reason has a code of its own: HEALTH_CHECK_FAILED */
  reasonCode?: string;
  logTail?: string;
  logFile?: string;
}

/**
 * apply-update (docs/install.md): stage → admit → prepare → run → switch → record. The
 * package is decrypted and unpacked into a fresh stage, admitted as soon as its manifest is
 * read (wrong version, downgrade, already installed), the current release is copied, the
 * install script runs against the copy, `current` is switched atomically and the new
 * versions recorded. A failing, crashing or timed-out script rolls back (the old release
 * stays current). Nothing from the package runs before its signature, integrity and every
 * hash were checked; every step is journaled before it runs (journal.ts, recover.ts).
 */
export async function applyUpdate(input: ApplyInput): Promise<ApplyResult> {
  const { db, layout, clock, logger } = input;
  recoverInterrupted(db, layout, clock, logger);
  const installed = readInstalled(db);
  if (!installed) throw new Error('agent state has no installed version (was rds init run?)');
  const stageDir = newStage(input.stateDir);
  try {
    const staged = await stage(input, stageDir, installed);
    if (staged.kind === 'already-installed') {
      const v = installed.softwareVersion;
      return { outcome: 'already-installed', packageId: staged.manifest.packageId, version: v, previousVersion: v };
    }
    const prepared = prepare(input, staged, installed);
    const run = await runScript(input, prepared);
    if (run.exitCode !== 0) return rollBack(input, prepared, run);
    switchRelease(input, prepared);
    const health = await runHealthCheck(input, prepared);
    if (health && health.exitCode !== 0) return switchBack(input, prepared, health);
    record(input, prepared);
    const { manifest } = prepared;
    logger.info('update installed', { package: manifest.packageId, version: manifest.softwareVersion });
    return {
      outcome: 'installed',
      packageId: manifest.packageId,
      version: manifest.softwareVersion,
      previousVersion: installed.softwareVersion,
      logTail: (health ?? run).logTail,
      logFile: prepared.logFile,
    };
  } finally {
    // after a crash this line never runs; recoverInterrupted removes the stage instead
    fs.rmSync(stageDir, { recursive: true, force: true });
  }
}

/** A fresh, empty stage folder under STATE/stage (stale ones no journal names removed first). */
export function newStage(stateDir: string): string {
  const stageRoot = path.join(stateDir, 'stage');
  removeStaleStages(stageRoot); // a crash before the journal started leaves a stage no journal names
  mkdirNoFollow(stageRoot);
  return fs.mkdtempSync(path.join(stageRoot, 'pkg-'));
}

export type Staged =
  | { kind: 'staged'; manifest: UpdateManifest; stageDir: string; payloadDir: string }
  | { kind: 'already-installed'; manifest: UpdateManifest };

/**
 * Stage: decrypt, verify and unpack the package into `stageDir/payload`, admitting (or
 * refusing) it as soon as its manifest is read; the unpack runs as the package is decrypted,
 * and its verdict counts only once the package's own checks passed (stage-package.ts).
 */
export async function stage(
  input: Pick<ApplyInput, 'db' | 'file' | 'agentKey' | 'hostKey' | 'expectedVersion' | 'limits'>,
  stageDir: string,
  installed: InstalledState,
): Promise<Staged> {
  const payloadDir = path.join(stageDir, 'payload');
  const keys = { file: input.file, agentKey: input.agentKey, hostKey: input.hostKey };
  const result = await unpackPackage(keys, payloadDir, input.limits ?? DEFAULT_EXTRACT_LIMITS, (m) =>
    admit(input.db, m, installed.softwareVersion, input.expectedVersion) === 'install' ? 'continue' : 'stop',
  );
  if (result.kind === 'stopped') return { kind: 'already-installed', manifest: result.manifest };
  return { kind: 'staged', manifest: result.manifest, stageDir, payloadDir };
}

/**
 * Admit: whether a package may be installed, decided from its manifest alone. Refuses
 * (throws) a package that is not the version its command announced, or a downgrade the host
 * did not sign; answers 'already-installed' for a package installed before.
 */
export function admit(db: Db, manifest: UpdateManifest, running: string, expectedVersion?: string): 'install' | 'already-installed' {
  if (expectedVersion !== undefined && manifest.softwareVersion !== expectedVersion) {
    throw new SecurityError(
      REFUSAL.PACKAGE_MISMATCH,
      `the update command announced ${expectedVersion}, but its package holds ${manifest.softwareVersion}`,
    );
  }
  const journal = findJournal(db, manifest.packageId);
  if (journal?.outcome === 'installed') return 'already-installed';
  if (manifest.softwareVersion === running && journal) return 'already-installed';
  if (compareVersions(manifest.softwareVersion, running) < 0 && !manifest.allowDowngrade) {
    throw new SecurityError(
      REFUSAL.DOWNGRADE_REFUSED,
      `package version ${manifest.softwareVersion} is lower than the running ${running}, and the host did not sign a downgrade`,
    );
  }
  return 'install';
}

export interface Prepared {
  manifest: UpdateManifest;
  stageDir: string;
  payloadDir: string;
  installed: InstalledState;
  newRelease: string;
  logFile: string;
}

/**
 * Prepare: check the install log's name, start the journal ('staged'), then ('preparing')
 * copy the current release to the new release folder the script will work on.
 */
export function prepare(
  input: Pick<ApplyInput, 'db' | 'layout' | 'stateDir' | 'clock' | 'commandId'>,
  staged: Extract<Staged, { kind: 'staged' }>,
  installed: InstalledState,
): Prepared {
  const { db, layout, clock } = input;
  const { manifest, stageDir, payloadDir } = staged;
  const newRelease = path.join(layout.releases, releaseName(manifest.softwareVersion, manifest.packageId));
  const logFile = installLogFile(input.stateDir, manifest.packageId);
  startJournal(
    db,
    {
      packageId: manifest.packageId,
      targetVersion: manifest.softwareVersion,
      previousVersion: installed.softwareVersion,
      previousRelease: installed.release,
      newRelease,
      stageDir,
      commandId: input.commandId ?? null,
      manifest: JSON.stringify(manifest),
    },
    clock.now(),
  );
  markStep(db, manifest.packageId, 'preparing', clock.now());
  mkdirNoFollow(layout.releases, 0o755);
  fs.rmSync(newRelease, { recursive: true, force: true });
  fs.cpSync(installed.release, newRelease, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  return { manifest, stageDir, payloadDir, installed, newRelease, logFile };
}

/**
 * The install log is appended to (a retried package keeps one log): refuse a symlink or
 * anything but a file planted at its name before any step starts (O_NOFOLLOW backs this up).
 */
function installLogFile(stateDir: string, packageId: string): string {
  const logDir = path.join(stateDir, 'logs');
  mkdirNoFollow(logDir);
  const logFile = path.join(logDir, `install-${packageId}.log`);
  const planted = fs.lstatSync(logFile, { throwIfNoEntry: false });
  if (planted && !planted.isFile()) {
    throw new UsageError(
      'UNTRUSTED_PATH',
      `install log ${logFile} is ${planted.isSymbolicLink() ? 'a symlink' : 'not a file'}; fix: remove it`,
    );
  }
  return logFile;
}

/** Run ('running-script'): the package's install script against the new release, its pid journaled. */
export function runScript(input: Pick<ApplyInput, 'db' | 'layout' | 'clock'>, p: Prepared): Promise<ScriptRun> {
  const { db, clock } = input;
  const { manifest, payloadDir } = p;
  markStep(db, manifest.packageId, 'running-script', clock.now());
  return runInstallScript({
    script: path.join(payloadDir, manifest.script),
    cwd: payloadDir,
    env: scriptEnv(input.layout, p),
    timeoutMs: manifest.timeoutSeconds * 1000,
    logFile: p.logFile,
    onSpawn: (pid) => markStep(db, manifest.packageId, 'running-script', clock.now(), `script-pid=${pid} boot=${bootId()}`),
  });
}

/** The environment of the install script and the health check alike: no secrets of the agent. */
function scriptEnv(layout: InstallLayout, p: Prepared): Record<string, string> {
  const { manifest, payloadDir } = p;
  return {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    RDS_INSTALL_ROOT: layout.root,
    RDS_RELEASE_DIR: p.newRelease,
    RDS_PAYLOAD_DIR: payloadDir,
    RDS_TARGET_VERSION: manifest.softwareVersion,
    RDS_PREVIOUS_VERSION: p.installed.softwareVersion,
    RDS_PREVIOUS_RELEASE_DIR: p.installed.release,
    RDS_PACKAGE_ID: manifest.packageId,
  };
}

/**
 * Health check ('health-check', then 'healthy'): the package's health check, after the
 * switch (the new release is current), with the install script's environment, timeout and
 * log. Undefined for a package without one.
 */
export async function runHealthCheck(input: Pick<ApplyInput, 'db' | 'layout' | 'clock'>, p: Prepared): Promise<ScriptRun | undefined> {
  const { db, clock } = input;
  const { manifest, payloadDir } = p;
  if (manifest.healthCheck === undefined) return undefined;
  markStep(db, manifest.packageId, 'health-check', clock.now());
  const run = await runInstallScript({
    script: path.join(payloadDir, manifest.healthCheck),
    cwd: payloadDir,
    env: scriptEnv(input.layout, p),
    timeoutMs: manifest.timeoutSeconds * 1000,
    logFile: p.logFile,
    label: 'health check',
    banner: `rds: health check (${manifest.healthCheck}) of ${manifest.softwareVersion}`,
    onSpawn: (pid) => markStep(db, manifest.packageId, 'health-check', clock.now(), `script-pid=${pid} boot=${bootId()}`),
  });
  if (run.exitCode === 0) markStep(db, manifest.packageId, 'healthy', clock.now());
  return run;
}

/** Why a script run failed, in words: '<what> exited with status 1', '… timed out after 600s', '… was killed by SIGKILL'. */
function failureReason(what: string, run: ScriptRun, timeoutSeconds: number): string {
  return run.timedOut
    ? `${what} timed out after ${timeoutSeconds}s`
    : run.signal
      ? `${what} was killed by ${run.signal}`
      : `${what} exited with status ${run.exitCode}`;
}

/**
 * A failed health check ('switching-back'): point `current` back at the previous release,
 * drop the new one, finish the journal as rolled back; the installed version never changed.
 */
export function switchBack(input: Pick<ApplyInput, 'db' | 'layout' | 'clock' | 'logger'>, p: Prepared, run: ScriptRun): ApplyResult {
  markStep(input.db, p.manifest.packageId, 'switching-back', input.clock.now());
  switchCurrent(input.layout, p.installed.release);
  return rolledBack(input, p, run, 'health check');
}

/** A failed script: drop the new release, finish the journal as rolled back; `current` never moved. */
export function rollBack(input: Pick<ApplyInput, 'db' | 'clock' | 'logger'>, p: Prepared, run: ScriptRun): ApplyResult {
  return rolledBack(input, p, run, 'install script');
}

/** The new release dropped and the journal finished as rolled back: the installed version never changed. */
function rolledBack(
  input: Pick<ApplyInput, 'db' | 'clock' | 'logger'>,
  p: Prepared,
  run: ScriptRun,
  what: 'install script' | 'health check',
): ApplyResult {
  const { manifest } = p;
  const reason = failureReason(what, run, manifest.timeoutSeconds);
  fs.rmSync(p.newRelease, { recursive: true, force: true });
  finishJournal(input.db, manifest.packageId, 'rolled-back', reason, input.clock.now());
  auditRollback(input.db, manifest, reason, input.clock.now());
  input.logger.warn('update rolled back', { package: manifest.packageId, reason });
  return {
    outcome: 'rolled-back',
    packageId: manifest.packageId,
    version: p.installed.softwareVersion,
    previousVersion: p.installed.softwareVersion,
    reason,
    ...(what === 'health check' ? { reasonCode: HEALTH_CHECK_FAILED } : {}),
    logTail: run.logTail,
    logFile: p.logFile,
  };
}

/** Switch ('switching', then 'switched'): point `current` at the new release with one rename. */
export function switchRelease(input: Pick<ApplyInput, 'db' | 'layout' | 'clock'>, p: Prepared): void {
  markStep(input.db, p.manifest.packageId, 'switching', input.clock.now());
  switchCurrent(input.layout, p.newRelease);
  markStep(input.db, p.manifest.packageId, 'switched', input.clock.now());
}

/** Record: the new versions, the journal finished as installed, old releases pruned. */
export function record(input: Pick<ApplyInput, 'db' | 'layout' | 'clock'>, p: Prepared): void {
  const { db, clock } = input;
  const entry = findJournal(db, p.manifest.packageId);
  if (!entry) throw new Error(`journal entry ${p.manifest.packageId} vanished`);
  recordInstalled(db, entry, clock.now());
  finishJournal(db, p.manifest.packageId, 'installed', `installed ${p.manifest.softwareVersion}`, clock.now());
  auditInstall(db, p.manifest, p.installed.softwareVersion, clock.now());
  pruneReleases(input.layout, [p.newRelease, p.installed.release]);
}

/** Keep the releases in use and the two newest others; remove older ones. */
function pruneReleases(layout: InstallLayout, keep: string[]): void {
  const keepSet = new Set(keep.map((k) => path.resolve(k)));
  const others = fs
    .readdirSync(layout.releases)
    .map((name) => path.join(layout.releases, name))
    .filter((p) => !keepSet.has(path.resolve(p)))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  for (const old of others.slice(2)) fs.rmSync(old, { recursive: true, force: true });
}

export function newCommandId(): string {
  return randomUUID();
}
