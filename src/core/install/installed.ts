import type { Db } from '../store/db.js';
import type { ModuleVersion, VersionReport } from '../version/version-text.js';

export interface InstalledState {
  softwareVersion: string;
  romVersion?: string;
  release: string;
  updatedAt: string;
}

export function readInstalled(db: Db): InstalledState | undefined {
  const row = db.prepare('SELECT software_version, rom_version, release, updated_at FROM installed WHERE id = 1').get() as
    | { software_version: string; rom_version: string | null; release: string; updated_at: string }
    | undefined;
  if (!row) return undefined;
  return {
    softwareVersion: row.software_version,
    ...(row.rom_version ? { romVersion: row.rom_version } : {}),
    release: row.release,
    updatedAt: row.updated_at,
  };
}

export function writeInstalled(db: Db, state: InstalledState, modules?: ModuleVersion[]): void {
  db.transaction(() => {
    db.prepare(
      `INSERT INTO installed (id, software_version, rom_version, release, updated_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET software_version = excluded.software_version, rom_version = excluded.rom_version,
         release = excluded.release, updated_at = excluded.updated_at`,
    ).run(state.softwareVersion, state.romVersion ?? null, state.release, state.updatedAt);
    if (modules) {
      const upsert = db.prepare(
        'INSERT INTO modules (name, version, date) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version, date = excluded.date',
      );
      for (const m of modules) upsert.run(m.name, m.version, m.date);
    }
  })();
}

/** This agent's version report (docs/formats.md#version-report-text), from the state store. */
export function readVersionReport(db: Db): VersionReport {
  const installed = readInstalled(db);
  if (!installed) throw new Error('agent state has no installed version (was rds init run?)');
  const modules = db.prepare('SELECT name, version, date FROM modules ORDER BY rowid').all() as ModuleVersion[];
  return {
    softwareVersion: installed.softwareVersion,
    ...(installed.romVersion ? { romVersion: installed.romVersion } : {}),
    modules,
  };
}
