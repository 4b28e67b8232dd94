/**
 * `rds agents import FILE`: many agents registered at once from a CSV (`id,address,key,note`)
 * or a JSON array, all or none (one transaction).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock.js';
import { readCsv } from '../csv/csv.js';
import { UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { findAgent, insertAgent, keyHolders, type RegistryKey } from './registry.js';

export interface ImportRow {
  id: string;
  address: string;
  /** the armored public key (a key file named in the import file is read already) */
  key: string;
  note: string;
}

/** A file's text, or one line saying why not (missing, a folder, not readable). */
function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a folder'
          : code === 'EACCES'
            ? 'is not readable by this user'
            : `cannot be read (${code})`;
    throw new UsageError('IMPORT_UNREADABLE', `${what} ${why}`, { cause: error });
  }
}

/** CSV `id,address,key,note` (key: a path to an armored key, relative to the file) or a JSON array. */
export function readImportFile(file: string): ImportRow[] {
  const text = readText(file, `import file ${file}`);
  const base = path.dirname(path.resolve(file));
  const keyText = (k: string) =>
    k.includes('BEGIN PGP PUBLIC KEY') ? k : readText(path.resolve(base, k), `${file}: the key file ${path.resolve(base, k)}`);
  if (text.trimStart().startsWith('[')) {
    const rows = JSON.parse(text) as Partial<ImportRow & { keyFile: string }>[];
    return rows.map((r, i) => {
      if (!r.id || !r.address || !(r.key || r.keyFile))
        throw new UsageError('BAD_IMPORT', `${file}: entry ${i + 1} needs id, address and key (or keyFile)`);
      return { id: r.id, address: r.address, key: keyText((r.key ?? r.keyFile) as string), note: r.note ?? '' };
    });
  }
  const records = readCsv(text, file);
  const header = (records[0] ?? []).map((h) => h.toLowerCase());
  const col = (name: string) => header.indexOf(name);
  if (col('id') < 0 || col('address') < 0 || col('key') < 0)
    throw new UsageError('BAD_IMPORT', `${file}: line 1 must name the columns id,address,key[,note]`);
  return records.slice(1).map((cells, i) => {
    const get = (name: string) => cells[col(name)] ?? '';
    if (!get('id') || !get('address') || !get('key'))
      throw new UsageError('BAD_IMPORT', `${file} line ${i + 2}: id, address and key are required`);
    return { id: get('id'), address: get('address'), key: keyText(get('key')), note: col('note') >= 0 ? get('note') : '' };
  });
}

/**
 * Register the rows (their keys read already, in the same order) in one transaction: an agent
 * registered already with the same key and address is skipped, with another one refused;
 * any refusal keeps nothing of the file and names the row.
 */
export function importAgents(
  db: Db,
  rows: ImportRow[],
  keys: RegistryKey[],
  options: { file: string; clock: Clock; hostFingerprint: string },
): { added: string[]; skipped: string[] } {
  const added: string[] = [];
  const skipped: string[] = [];
  db.transaction(() => {
    const holders = keyHolders(db); // read once: the file's keys are checked against it and each other
    rows.forEach((row, i) => {
      const key = keys[i] as RegistryKey;
      const existing = findAgent(db, row.id);
      if (existing) {
        if (existing.fingerprint !== key.getFingerprint().toUpperCase() || existing.address !== row.address) {
          throw new UsageError('AGENT_CONFLICT', `agent '${row.id}' is registered with another key or address; remove it first`);
        }
        skipped.push(row.id);
        return;
      }
      try {
        insertAgent(db, { id: row.id, address: row.address, key, note: row.note }, options.clock.now(), options.hostFingerprint, holders);
      } catch (error) {
        throw rowError(error, options.file, row.id, added);
      }
      added.push(row.id);
    });
  })();
  return { added, skipped };
}

/**
 * The file's keys read one after the other, each kept as its fingerprint and armor only
 * (a parsed key is ~40 KB of objects: 5,000 of them held at once were 300 MB); the row's
 * own copy of the key text is let go once read (the armor is what is stored). The parsed
 * keys are garbage at once, but V8 lets old garbage pile up until its heap limit grows:
 * collected every KEYS_PER_GC keys, 10,000 keys peak at ~35 MB less (bench/scale.mjs).
 */
export async function readImportKeys(rows: ImportRow[]): Promise<RegistryKey[]> {
  const { readPublicKey } = await import('../crypto/keys.js');
  const { collectGarbage } = await import('../package/memory.js');
  const out: RegistryKey[] = [];
  for (const row of rows) {
    const key = await readPublicKey(row.key, `key of ${row.id}`);
    const fingerprint = key.getFingerprint();
    const armored = key.armor();
    out.push({ getFingerprint: () => fingerprint, armor: () => armored });
    row.key = '';
    if (out.length % KEYS_PER_GC === 0) collectGarbage();
  }
  return out;
}

const KEYS_PER_GC = 2500;

/** Nothing of the file is kept (one transaction): say which row met which agent. */
function rowError(error: unknown, file: string, id: string, added: string[]): unknown {
  if (!(error instanceof UsageError)) return error;
  if (error.code === 'KEY_IN_USE') {
    const holder = String(error.details?.agentId);
    const problem = added.includes(holder) ? `has the same key as agent '${holder}' earlier in the file` : error.message;
    return new UsageError(error.code, `${file}, agent '${id}': ${problem}; nothing was imported`, { details: error.details });
  }
  return new UsageError(error.code, `${file}, agent '${id}': ${error.message}; nothing was imported`, { details: error.details });
}
