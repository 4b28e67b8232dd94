import fs from 'node:fs';
import path from 'node:path';
import { readPublicKey } from '../core/crypto/keys.js';
import { readCsv } from '../core/csv/csv.js';
import { UsageError } from '../core/errors.js';
import { addAgent, findAgent } from '../core/host/registry.js';
import { hostFingerprint } from './agents-add.js';
import { openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { agentsImport } from './specs/fleet.js';
import type { CommandResult, GlobalOptions } from './types.js';

interface Row {
  id: string;
  address: string;
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
export function readImportFile(file: string): Row[] {
  const text = readText(file, `import file ${file}`);
  const base = path.dirname(path.resolve(file));
  const keyText = (k: string) =>
    k.includes('BEGIN PGP PUBLIC KEY') ? k : readText(path.resolve(base, k), `${file}: the key file ${path.resolve(base, k)}`);
  if (text.trimStart().startsWith('[')) {
    const rows = JSON.parse(text) as Partial<Row & { keyFile: string }>[];
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

export async function run(options: OptionsOf<typeof agentsImport>, globals: GlobalOptions): Promise<CommandResult> {
  const file = options.args[0] as string;
  const rows = readImportFile(file);
  const ctx = await openContext(globals, 'agents import', { role: 'host' });
  try {
    const keys = await Promise.all(rows.map((r) => readPublicKey(r.key, `key of ${r.id}`)));
    const own = await hostFingerprint(ctx);
    const added: string[] = [];
    const skipped: string[] = [];
    ctx.db.transaction(() => {
      rows.forEach((row, i) => {
        const key = keys[i] as (typeof keys)[number];
        const existing = findAgent(ctx.db, row.id);
        if (existing) {
          if (existing.fingerprint !== key.getFingerprint().toUpperCase() || existing.address !== row.address) {
            throw new UsageError('AGENT_CONFLICT', `agent '${row.id}' is registered with another key or address; remove it first`);
          }
          skipped.push(row.id);
          return;
        }
        try {
          addAgent(ctx.db, { id: row.id, address: row.address, key, note: row.note }, ctx.clock.now(), own);
        } catch (error) {
          // nothing of the file is kept (one transaction); say which row met which agent
          if (error instanceof UsageError && error.code === 'KEY_IN_USE') {
            const holder = String(error.details?.agentId);
            const problem = added.includes(holder) ? `has the same key as agent '${holder}' earlier in the file` : error.message;
            throw new UsageError(error.code, `${file}, agent '${row.id}': ${problem}; nothing was imported`, { details: error.details });
          }
          if (error instanceof UsageError) {
            throw new UsageError(error.code, `${file}, agent '${row.id}': ${error.message}; nothing was imported`, {
              details: error.details,
            });
          }
          throw error;
        }
        added.push(row.id);
      });
    })();
    return {
      data: { added, skipped },
      text: `imported ${added.length} agents${skipped.length > 0 ? `, ${skipped.length} already registered` : ''}`,
    };
  } finally {
    ctx.close();
  }
}
