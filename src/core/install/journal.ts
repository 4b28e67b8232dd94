/**
 * The update journal (docs/install.md#steps): every step of apply-update is written here
 * BEFORE it runs, so a crash (kill -9, power cut) at any step is finished or undone by
 * the next run (see recover.ts).
 */
import type { Db } from '../store/db.js';

/**
 * A package with a health check goes on after 'switched': 'health-check' (it runs, `current`
 * at the new release), then 'healthy' (it passed) or 'switching-back' (it failed).
 */
export const STEPS = [
  'staged',
  'preparing',
  'running-script',
  'switching',
  'switched',
  'health-check',
  'healthy',
  'switching-back',
  'done',
] as const;
export type Step = (typeof STEPS)[number];
export type Outcome = 'installed' | 'rolled-back';

export interface JournalEntry {
  packageId: string;
  targetVersion: string;
  previousVersion: string;
  previousRelease: string;
  newRelease: string;
  stageDir: string;
  step: Step;
  outcome: Outcome | null;
  detail: string | null;
  commandId: string | null;
  manifest: string;
}

interface Row {
  package_id: string;
  target_version: string;
  previous_version: string;
  previous_release: string;
  new_release: string;
  stage_dir: string;
  step: Step;
  outcome: Outcome | null;
  detail: string | null;
  command_id: string | null;
  manifest: string;
}

const fromRow = (r: Row): JournalEntry => ({
  packageId: r.package_id,
  targetVersion: r.target_version,
  previousVersion: r.previous_version,
  previousRelease: r.previous_release,
  newRelease: r.new_release,
  stageDir: r.stage_dir,
  step: r.step,
  outcome: r.outcome,
  detail: r.detail,
  commandId: r.command_id,
  manifest: r.manifest,
});

export function findJournal(db: Db, packageId: string): JournalEntry | undefined {
  const row = db.prepare('SELECT * FROM install_journal WHERE package_id = ?').get(packageId) as Row | undefined;
  return row ? fromRow(row) : undefined;
}

export function unfinishedJournals(db: Db): JournalEntry[] {
  return (db.prepare('SELECT * FROM install_journal WHERE outcome IS NULL ORDER BY started_at').all() as Row[]).map(fromRow);
}

export function startJournal(db: Db, entry: Omit<JournalEntry, 'step' | 'outcome' | 'detail'>, now: Date): void {
  db.prepare(
    `INSERT INTO install_journal (package_id, target_version, previous_version, previous_release, new_release, stage_dir,
       step, outcome, detail, command_id, manifest, started_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'staged', NULL, NULL, ?, ?, ?, ?)
     ON CONFLICT(package_id) DO UPDATE SET step = 'staged', outcome = NULL, detail = NULL, new_release = excluded.new_release,
       stage_dir = excluded.stage_dir, previous_version = excluded.previous_version, previous_release = excluded.previous_release,
       command_id = excluded.command_id, updated_at = excluded.updated_at`,
  ).run(
    entry.packageId,
    entry.targetVersion,
    entry.previousVersion,
    entry.previousRelease,
    entry.newRelease,
    entry.stageDir,
    entry.commandId,
    entry.manifest,
    now.toISOString(),
    now.toISOString(),
  );
}

export function markStep(db: Db, packageId: string, step: Step, now: Date, detail?: string): void {
  db.prepare('UPDATE install_journal SET step = ?, detail = COALESCE(?, detail), updated_at = ? WHERE package_id = ?').run(
    step,
    detail ?? null,
    now.toISOString(),
    packageId,
  );
  stepObserver?.(step);
}

let stepObserver: ((step: Step) => void) | undefined;

/**
 * Watch every step as soon as it is journaled. Nothing in the product sets an observer: it
 * is the seam for the crash tests' own entry script (test/support/rds-crash-after.mjs, see
 * docs/install.md#testing-the-crash-path), which kills the process right after a chosen step.
 */
export function observeJournalSteps(observer: ((step: Step) => void) | undefined): void {
  stepObserver = observer;
}

export function finishJournal(db: Db, packageId: string, outcome: Outcome, detail: string, now: Date): void {
  db.prepare("UPDATE install_journal SET step = 'done', outcome = ?, detail = ?, updated_at = ? WHERE package_id = ?").run(
    outcome,
    detail,
    now.toISOString(),
    packageId,
  );
}
