import fs from 'node:fs';
import path from 'node:path';
import { readInstalled, writeInstalled } from '../agent/installed.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { UpdateManifest } from '../package/manifest.js';
import type { Db } from '../store/db.js';
import { finishJournal, type JournalEntry, unfinishedJournals } from './journal.js';
import { currentRelease, type InstallLayout, switchCurrent } from './layout.js';

export interface Recovered {
  packageId: string;
  outcome: 'installed' | 'rolled-back';
  step: string;
}

function killLeftoverScript(entry: JournalEntry): void {
  const pid = Number(/script-pid=(\d+)/.exec(entry.detail ?? '')?.[1]);
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone */
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
 * Finish or undo every apply-update a crash interrupted. The decision rests on one fact
 * only, what `current` points at (the switch is a single rename): at the new release →
 * finish forward (record the version); anywhere else → undo (drop the new release, keep
 * the old). Each run thus ends in the old or the new version, never between.
 */
export function recoverInterrupted(db: Db, layout: InstallLayout, clock: Clock, logger: Logger): Recovered[] {
  const done: Recovered[] = [];
  for (const entry of unfinishedJournals(db)) {
    killLeftoverScript(entry);
    const now = clock.now();
    if (currentRelease(layout) === path.resolve(entry.newRelease)) {
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
