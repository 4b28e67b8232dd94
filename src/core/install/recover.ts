import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { UpdateManifest } from '../package/manifest.js';
import type { Db } from '../store/db.js';
import { acquireCommandLock } from '../store/lock.js';
import type { VersionReport } from '../version/version-text.js';
import { readInstalled, readVersionReport, writeInstalled } from './installed.js';
import { finishJournal, type JournalEntry, unfinishedJournals } from './journal.js';
import { currentRelease, type InstallLayout, switchCurrent } from './layout.js';

export interface Recovered {
  packageId: string;
  outcome: 'installed' | 'rolled-back';
  step: string;
}

/** This boot's id (Linux), so a script pid journaled before a power cut is never signalled. */
export function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** Whether process group `pgid` has a member that is not a zombie (zombies answer kill(2) until reaped). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  try {
    return fs.readdirSync('/proc').some((name) => {
      if (!/^\d+$/.test(name)) return false;
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state !== 'Z' && state !== 'X' && Number(pgrp) === pgid;
      } catch {
        return false;
      }
    });
  } catch {
    return true; // no /proc: trust kill(2)
  }
}

/**
 * The script of a crashed apply-update runs on in its own process group: kill that group
 * and wait (briefly) until it is gone, so it cannot write into a release being removed.
 * Only within the same boot: after a power cut the pid may belong to anything.
 */
function killLeftoverScript(entry: JournalEntry): void {
  const pid = Number(/script-pid=(\d+)/.exec(entry.detail ?? '')?.[1]);
  if (!pid) return;
  const boot = /boot=(\S+)/.exec(entry.detail ?? '')?.[1];
  if (boot !== undefined && boot !== bootId()) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    return; // gone
  }
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 100 && groupAlive(pid); i++) Atomics.wait(wait, 0, 0, 20);
}

/**
 * Remove whatever is left under the stage root once every journal is finished: a crash
 * before the journal was started (while decrypting or unpacking) leaves a stage no
 * journal names. Call only under the install lock.
 */
export function removeStaleStages(stageRoot: string): void {
  if (!fs.existsSync(stageRoot)) return;
  for (const name of fs.readdirSync(stageRoot)) fs.rmSync(path.join(stageRoot, name), { recursive: true, force: true });
}

/**
 * Recovery for commands other than apply-update (`rds versions`, a version request): when
 * no apply-update is running (the install lock is free), finish or undo an interrupted one
 * first, so the version reported is the one `current` points at.
 */
export function recoverIfIdle(input: { db: Db; layout: InstallLayout; stateDir: string; clock: Clock; logger: Logger }): Recovered[] {
  let lock: ReturnType<typeof acquireCommandLock>;
  try {
    lock = acquireCommandLock(input.stateDir, 'install');
  } catch (error) {
    if ((error as { code?: string }).code === 'COMMAND_LOCKED') return []; // an apply-update is running: it owns the journal
    throw error;
  }
  try {
    const done = recoverInterrupted(input.db, input.layout, input.clock, input.logger);
    removeStaleStages(path.join(input.stateDir, 'stage'));
    return done;
  } finally {
    lock.release();
  }
}

/** The new release's version record: the previous modules, overlaid by the package's. */
export function recordInstalled(db: Db, entry: JournalEntry, now: Date): void {
  const manifest = JSON.parse(entry.manifest) as UpdateManifest;
  const before = readInstalled(db);
  writeInstalled(
    db,
    {
      softwareVersion: manifest.softwareVersion,
      ...((manifest.romVersion ?? before?.romVersion) ? { romVersion: manifest.romVersion ?? before?.romVersion } : {}),
      release: entry.newRelease,
      updatedAt: now.toISOString(),
    },
    manifest.modules.map((m) => ({ name: m.name, version: m.version, date: m.date })),
  );
}

/**
 * Whether an interrupted install may be finished forward: a package with a health check
 * only once it passed ('healthy'); one without needs nothing more.
 */
function passedHealthCheck(entry: JournalEntry): boolean {
  const manifest = JSON.parse(entry.manifest) as UpdateManifest;
  return manifest.healthCheck === undefined || entry.step === 'healthy';
}

/**
 * Finish or undo every apply-update a crash interrupted. The decision rests on what
 * `current` points at (the switch is a single rename): at the new release → finish forward
 * (record the version), unless the package has a health check that has not passed yet;
 * anywhere else, or a health check not passed → undo (point `current` back, drop the new
 * release, keep the old). Each run thus ends in the old or the new version, never between.
 */
export function recoverInterrupted(db: Db, layout: InstallLayout, clock: Clock, logger: Logger): Recovered[] {
  const done: Recovered[] = [];
  for (const entry of unfinishedJournals(db)) {
    killLeftoverScript(entry);
    const now = clock.now();
    if (currentRelease(layout) === path.resolve(entry.newRelease) && passedHealthCheck(entry)) {
      recordInstalled(db, entry, now);
      finishJournal(db, entry.packageId, 'installed', `finished after an interruption at step '${entry.step}'`, now);
      done.push({ packageId: entry.packageId, outcome: 'installed', step: entry.step });
    } else {
      if (currentRelease(layout) !== path.resolve(entry.previousRelease) && fs.existsSync(entry.previousRelease)) {
        switchCurrent(layout, entry.previousRelease);
      }
      if (path.resolve(entry.newRelease) !== path.resolve(entry.previousRelease)) {
        fs.rmSync(entry.newRelease, { recursive: true, force: true });
      }
      finishJournal(db, entry.packageId, 'rolled-back', `interrupted at step '${entry.step}'; rolled back`, now);
      done.push({ packageId: entry.packageId, outcome: 'rolled-back', step: entry.step });
    }
    fs.rmSync(entry.stageDir, { recursive: true, force: true });
    logger.warn('finished an interrupted update', { package: entry.packageId, step: entry.step, outcome: done.at(-1)?.outcome });
  }
  return done;
}

/**
 * The version report as `current` really runs it: an update a crash interrupted is
 * finished or undone first (unless an install is under way), so no stale record is read.
 */
export function currentVersionReport(input: {
  db: Db;
  layout: InstallLayout;
  stateDir: string;
  clock: Clock;
  logger: Logger;
}): VersionReport {
  recoverIfIdle(input);
  return readVersionReport(input.db);
}
