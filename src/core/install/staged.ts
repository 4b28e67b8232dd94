/**
 * The staged update (docs/install.md#install-window): an update that arrived outside the
 * install window, verified at once and held until the window opens. One slot (table
 * `staged_update`, migration 011), its package under STATE/staged/ (folder 0700, file 0600).
 * The package is kept as it came (encrypted and signed): the install when the window opens
 * runs the whole apply path on it again, so nothing unverified is ever acted on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { mkdirNoFollow } from '../fs/trust.js';
import type { UpdateManifest } from '../package/manifest.js';
import type { Db } from '../store/db.js';
import { compareVersions } from '../version/version.js';
import { type ApplyInput, newStage, stage } from './apply.js';
import { readInstalled } from './installed.js';
import { syncDir } from './layout.js';
import { recoverInterrupted } from './recover.js';

export interface StagedUpdate {
  packageId: string;
  softwareVersion: string;
  /** the update command (payload id) the result replies to */
  commandId: string;
  rolloutId: string;
  file: string;
  stagedAt: string;
  deferredUntil: string;
}

interface Row {
  package_id: string;
  software_version: string;
  command_id: string;
  rollout_id: string;
  file: string;
  staged_at: string;
  deferred_until: string;
}

export function readStaged(db: Db): StagedUpdate | undefined {
  const r = db.prepare('SELECT * FROM staged_update WHERE slot = 1').get() as Row | undefined;
  return r
    ? {
        packageId: r.package_id,
        softwareVersion: r.software_version,
        commandId: r.command_id,
        rolloutId: r.rollout_id,
        file: r.file,
        stagedAt: r.staged_at,
        deferredUntil: r.deferred_until,
      }
    : undefined;
}

export type StashResult =
  /** staged: the slot was empty, or held an older version (`replaced`, its file removed) */
  | { kind: 'staged'; staged: StagedUpdate; replaced?: StagedUpdate }
  /** the same package again: staged once; the newest command and rollout get the result */
  | { kind: 'again'; staged: StagedUpdate }
  /** a package of the same or a lower version than the one staged: not staged */
  | { kind: 'superseded'; staged: StagedUpdate };

/**
 * Keep `incoming` (a verified package, moved, not copied) in the slot, unless the slot holds
 * the same package or a package of the same or a higher version. The file is in place and
 * synced before the row names it; files no row names are removed.
 */
export function stashUpdate(db: Db, stateDir: string, incoming: string, next: Omit<StagedUpdate, 'file'>): StashResult {
  const current = readStaged(db);
  if (current?.packageId === next.packageId) {
    const staged = { ...current, commandId: next.commandId, rolloutId: next.rolloutId, deferredUntil: next.deferredUntil };
    db.prepare('UPDATE staged_update SET command_id = ?, rollout_id = ?, deferred_until = ? WHERE slot = 1').run(
      staged.commandId,
      staged.rolloutId,
      staged.deferredUntil,
    );
    return { kind: 'again', staged };
  }
  if (current && compareVersions(next.softwareVersion, current.softwareVersion) <= 0) return { kind: 'superseded', staged: current };
  const dir = path.join(stateDir, 'staged');
  mkdirNoFollow(dir);
  const file = path.join(dir, `${next.packageId}.rdsu`);
  fs.renameSync(incoming, file);
  fs.chmodSync(file, 0o600);
  syncDir(dir);
  const staged: StagedUpdate = { ...next, file };
  db.prepare(
    `INSERT INTO staged_update (slot, package_id, software_version, command_id, rollout_id, file, staged_at, deferred_until)
     VALUES (1, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(slot) DO UPDATE SET package_id = excluded.package_id, software_version = excluded.software_version,
       command_id = excluded.command_id, rollout_id = excluded.rollout_id, file = excluded.file,
       staged_at = excluded.staged_at, deferred_until = excluded.deferred_until`,
  ).run(staged.packageId, staged.softwareVersion, staged.commandId, staged.rolloutId, file, staged.stagedAt, staged.deferredUntil);
  removeUnnamed(dir, file);
  return current ? { kind: 'staged', staged, replaced: current } : { kind: 'staged', staged };
}

/** Empty the slot (the update was installed, refused or replaced) and remove its file. */
export function clearStaged(db: Db, stateDir: string): void {
  db.prepare('DELETE FROM staged_update WHERE slot = 1').run();
  removeUnnamed(path.join(stateDir, 'staged'), undefined);
}

/** Remove every file under STATE/staged/ but `keep` (a crash between the move and the row leaves one). */
function removeUnnamed(dir: string, keep: string | undefined): void {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (file !== keep) fs.rmSync(file, { recursive: true, force: true });
  }
}

/**
 * Every check apply-update makes before it journals anything, now, without installing:
 * recover an interrupted install, decrypt (for this agent, intact, signed by the host),
 * unpack into a fresh stage (every entry, hash and mode, and the disk space it takes), admit
 * (announced version, downgrade, already installed). The stage is removed afterwards.
 * Refusals throw as in apply-update.
 */
export async function verifyUpdate(input: ApplyInput): Promise<{ kind: 'verified' | 'already-installed'; manifest: UpdateManifest }> {
  recoverInterrupted(input.db, input.layout, input.clock, input.logger);
  const installed = readInstalled(input.db);
  if (!installed) throw new Error('agent state has no installed version (was rds init run?)');
  const stageDir = newStage(input.stateDir);
  try {
    const staged = await stage(input, stageDir, installed);
    return { kind: staged.kind === 'staged' ? 'verified' : 'already-installed', manifest: staged.manifest };
  } finally {
    fs.rmSync(stageDir, { recursive: true, force: true });
  }
}
