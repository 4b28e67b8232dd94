import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { readInstalled } from '../agent/installed.js';
import type { Clock } from '../clock.js';
import { REFUSAL, SecurityError, UsageError } from '../errors.js';
import { mkdirNoFollow } from '../fs/trust.js';
import type { Logger } from '../logger.js';
import { DEFAULT_EXTRACT_LIMITS, type ExtractLimits, extractPackage } from '../package/extract.js';
import type { UpdateManifest } from '../package/manifest.js';
import { decryptPackage } from '../package/unpack.js';
import type { Db } from '../store/db.js';
import { compareVersions } from '../version/version.js';
import { findJournal, finishJournal, markStep, startJournal } from './journal.js';
import { type InstallLayout, releaseName, switchCurrent } from './layout.js';
import { bootId, recordInstalled, recoverInterrupted, removeStaleStages } from './recover.js';
import { runInstallScript } from './run-script.js';

export interface ApplyInput {
  db: Db;
  layout: InstallLayout;
  stateDir: string;
  file: string;
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

export interface ApplyResult {
  outcome: ApplyOutcome;
  packageId: string;
  version: string;
  previousVersion: string;
  reason?: string;
  logTail?: string;
  logFile?: string;
}

class AlreadyInstalled extends Error {
  constructor(readonly manifest: UpdateManifest) {
    super('already installed');
  }
}

/**
 * apply-update (docs/install.md#steps): verify → stage → check hashes → run the install script →
 * switch `current` atomically → record the new versions. A failing, crashing or
 * timed-out script rolls back (the old release stays current). Nothing from the package
 * runs before its signature, integrity and every hash were checked.
 */
export async function applyUpdate(input: ApplyInput): Promise<ApplyResult> {
  const { db, layout, clock, logger } = input;
  recoverInterrupted(db, layout, clock, logger);
  const installed = readInstalled(db);
  if (!installed) throw new Error('agent state has no installed version (was rds init run?)');

  const stageRoot = path.join(input.stateDir, 'stage');
  removeStaleStages(stageRoot); // a crash before the journal started leaves a stage no journal names
  mkdirNoFollow(stageRoot);
  const stageDir = fs.mkdtempSync(path.join(stageRoot, 'pkg-'));
  try {
    const tarGz = path.join(stageDir, 'package.tar.gz');
    await decryptPackage({ file: input.file, outFile: tarGz, agentKey: input.agentKey, hostKey: input.hostKey });
    const payloadDir = path.join(stageDir, 'payload');
    let manifest: UpdateManifest;
    try {
      ({ manifest } = await extractPackage(tarGz, payloadDir, input.limits ?? DEFAULT_EXTRACT_LIMITS, (m) =>
        checkAdmissible(db, m, installed.softwareVersion, input.expectedVersion),
      ));
    } catch (error) {
      if (error instanceof AlreadyInstalled) {
        return {
          outcome: 'already-installed',
          packageId: error.manifest.packageId,
          version: installed.softwareVersion,
          previousVersion: installed.softwareVersion,
        };
      }
      throw error;
    }
    fs.rmSync(tarGz, { force: true });

    const newRelease = path.join(layout.releases, releaseName(manifest.softwareVersion, manifest.packageId));
    // the install log is appended to (a retried package keeps one log): refuse a symlink or
    // anything but a file planted at its name before any step starts (O_NOFOLLOW backs this up)
    const logDir = path.join(input.stateDir, 'logs');
    mkdirNoFollow(logDir);
    const logFile = path.join(logDir, `install-${manifest.packageId}.log`);
    const planted = fs.lstatSync(logFile, { throwIfNoEntry: false });
    if (planted && !planted.isFile()) {
      throw new UsageError(
        'UNTRUSTED_PATH',
        `install log ${logFile} is ${planted.isSymbolicLink() ? 'a symlink' : 'not a file'}; fix: remove it`,
      );
    }
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

    markStep(db, manifest.packageId, 'running-script', clock.now());
    const run = await runInstallScript({
      script: path.join(payloadDir, manifest.script),
      cwd: payloadDir,
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        LANG: 'C.UTF-8',
        RDS_INSTALL_ROOT: layout.root,
        RDS_RELEASE_DIR: newRelease,
        RDS_PAYLOAD_DIR: payloadDir,
        RDS_TARGET_VERSION: manifest.softwareVersion,
        RDS_PREVIOUS_VERSION: installed.softwareVersion,
        RDS_PREVIOUS_RELEASE_DIR: installed.release,
        RDS_PACKAGE_ID: manifest.packageId,
      },
      timeoutMs: manifest.timeoutSeconds * 1000,
      logFile,
      onSpawn: (pid) => markStep(db, manifest.packageId, 'running-script', clock.now(), `script-pid=${pid} boot=${bootId()}`),
    });
    if (run.exitCode !== 0) {
      const reason = run.timedOut
        ? `install script timed out after ${manifest.timeoutSeconds}s`
        : run.signal
          ? `install script was killed by ${run.signal}`
          : `install script exited with status ${run.exitCode}`;
      fs.rmSync(newRelease, { recursive: true, force: true });
      finishJournal(db, manifest.packageId, 'rolled-back', reason, clock.now());
      logger.warn('update rolled back', { package: manifest.packageId, reason });
      return {
        outcome: 'rolled-back',
        packageId: manifest.packageId,
        version: installed.softwareVersion,
        previousVersion: installed.softwareVersion,
        reason,
        logTail: run.logTail,
        logFile,
      };
    }
    markStep(db, manifest.packageId, 'switching', clock.now());
    switchCurrent(layout, newRelease);
    markStep(db, manifest.packageId, 'switched', clock.now());
    const entry = findJournal(db, manifest.packageId);
    if (!entry) throw new Error(`journal entry ${manifest.packageId} vanished`);
    recordInstalled(db, entry, clock.now());
    finishJournal(db, manifest.packageId, 'installed', `installed ${manifest.softwareVersion}`, clock.now());
    pruneReleases(layout, [newRelease, installed.release]);
    logger.info('update installed', { package: manifest.packageId, version: manifest.softwareVersion });
    return {
      outcome: 'installed',
      packageId: manifest.packageId,
      version: manifest.softwareVersion,
      previousVersion: installed.softwareVersion,
      logTail: run.logTail,
      logFile,
    };
  } finally {
    // after a crash this line never runs; recoverInterrupted removes the stage instead
    fs.rmSync(stageDir, { recursive: true, force: true });
  }
}

/** Refuse what must not be installed, as soon as the manifest is read. */
function checkAdmissible(db: Db, manifest: UpdateManifest, running: string, expectedVersion?: string): void {
  if (expectedVersion !== undefined && manifest.softwareVersion !== expectedVersion) {
    throw new SecurityError(
      REFUSAL.PACKAGE_MISMATCH,
      `the update command announced ${expectedVersion}, but its package holds ${manifest.softwareVersion}`,
    );
  }
  const journal = findJournal(db, manifest.packageId);
  if (journal?.outcome === 'installed') throw new AlreadyInstalled(manifest);
  if (manifest.softwareVersion === running && journal) throw new AlreadyInstalled(manifest);
  if (compareVersions(manifest.softwareVersion, running) < 0 && !manifest.allowDowngrade) {
    throw new SecurityError(
      REFUSAL.DOWNGRADE_REFUSED,
      `package version ${manifest.softwareVersion} is lower than the running ${running}, and the host did not sign a downgrade`,
    );
  }
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
