import { MIGRATIONS } from '../migrations.js';

/**
 * The SQLite SQL rds writes, as PostgreSQL runs it (docs/deployment.md#postgresql). One
 * mechanical pass over each query, string literals and quoted names left alone:
 * `?` and `@name` → `$n` (a `?` tested with IS [NOT] NULL gets `::text`, PostgreSQL cannot
 * infer its type); `INSERT OR IGNORE` → `ON CONFLICT DO NOTHING`; an INSERT into a table
 * with a generated key returns it (`lastInsertRowid`); `IFNULL` → `COALESCE`, `instr` →
 * `strpos`, `json_each(?)` → `json_array_elements_text($n::json)`, `LIKE` → `ILIKE` (ASCII
 * case-insensitive as in SQLite); mixed-case aliases quoted (PostgreSQL folds them); ORDER BY
 * puts NULLs where SQLite does (first ascending, last descending). What has no mechanical
 * form (`INSERT OR REPLACE`, `GROUP_CONCAT`, `PRAGMA`, `datetime(`) is refused with the
 * query named: such a query is rewritten in a form valid on both.
 */

/**
 * Tables whose key PostgreSQL generates (SQLite: INTEGER PRIMARY KEY AUTOINCREMENT), by key
 * column, read from the migrations themselves: a new table gets its `lastInsertRowid` too.
 */
export const GENERATED_KEYS: Readonly<Record<string, string>> = generatedKeys(MIGRATIONS.map((m) => m.sql).join('\n'));

export function generatedKeys(sql: string): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const [, table, body] of sql.matchAll(/CREATE\s+TABLE\s+(\w+)\s*\(([\s\S]*?)\)\s*;/gi)) {
    const key = /(?:^|[(,\n])\s*(\w+)\s+INTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT/i.exec(body as string)?.[1];
    if (key) keys[(table as string).toLowerCase()] = key;
  }
  return keys;
}

export interface PgQuery {
  text: string;
  /** for named parameters (`@name`): the name bound to each `$n`, in order */
  names?: string[];
  /** the placeholders' count (positional) */
  count: number;
  /** the generated key an INSERT returns */
  returning?: string;
}

export class DialectError extends Error {}

const UNSUPPORTED: [RegExp, string][] = [
  [/\bINSERT\s+OR\s+(REPLACE|ABORT|FAIL|ROLLBACK)\b/i, 'INSERT OR REPLACE'],
  [/\bREPLACE\s+INTO\b/i, 'REPLACE INTO'],
  [/\bGROUP_CONCAT\s*\(/i, 'GROUP_CONCAT'],
  [/\bPRAGMA\b/i, 'PRAGMA'],
  [/\bdatetime\s*\(/i, 'datetime()'],
  [/\bunixepoch\s*\(/i, 'unixepoch()'],
  [/\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b/i, 'BEGIN IMMEDIATE'],
];

/** Literals and quoted names out of the way: `\u0000n\u0000` in their place. */
function mask(sql: string): { text: string; kept: string[] } {
  const kept: string[] = [];
  const text = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*/g, (m) => {
    if (m.startsWith('--')) return ' ';
    kept.push(m);
    return `\u0000${kept.length - 1}\u0000`;
  });
  return { text, kept };
}

function unmask(text: string, kept: string[]): string {
  return text.replace(/\u0000(\d+)\u0000/g, (_, i: string) => kept[Number(i)] as string);
}

/** SQLite sorts NULL first ascending and last descending; PostgreSQL the other way round. */
function withNullsOrder(text: string): string {
  let out = '';
  let i = 0;
  const re = /\bORDER\s+BY\s+/gi;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[0].length;
    let depth = 0;
    let end = start;
    for (; end < text.length; end++) {
      const c = text[end];
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && /^\s(LIMIT|OFFSET)\b/i.test(text.slice(end, end + 8))) break;
    }
    const items = splitTop(text.slice(start, end)).map((item) => {
      const t = item.trimEnd();
      if (/\bNULLS\s+(FIRST|LAST)$/i.test(t)) return item;
      return /\bDESC$/i.test(t) ? `${t} NULLS LAST` : `${t} NULLS FIRST`;
    });
    out += text.slice(i, start) + items.join(',');
    i = end;
    re.lastIndex = end;
  }
  return out + text.slice(i);
}

function splitTop(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(list.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(list.slice(from));
  return parts;
}

function placeholders(text: string): { text: string; names?: string[]; count: number } {
  const names: string[] = [];
  let count = 0;
  let named = false;
  const out = text.replace(
    /\?(\s+IS\s+(?:NOT\s+)?NULL\b)?|@([A-Za-z_]\w*)/gi,
    (_m, isNull: string | undefined, name: string | undefined) => {
      if (name) {
        named = true;
        let at = names.indexOf(name);
        if (at < 0) at = names.push(name) - 1;
        return `$${at + 1}`;
      }
      count++;
      return isNull ? `$${count}::text${isNull}` : `$${count}`;
    },
  );
  if (named && count > 0) throw new DialectError('a query mixes ? and @name parameters');
  return named ? { text: out, names, count: names.length } : { text: out, count };
}

/** Translate one query (a single statement) of rds's SQLite SQL to PostgreSQL. */
export function toPostgres(sql: string): PgQuery {
  const { text: masked, kept } = mask(sql.trim().replace(/;\s*$/, ''));
  for (const [re, what] of UNSUPPORTED) {
    if (re.test(masked)) throw new DialectError(`${what} has no PostgreSQL form: rewrite the query (${sql.trim().slice(0, 80)})`);
  }
  let text = masked;
  const ignore = /^\s*INSERT\s+OR\s+IGNORE\s+INTO\b/i.test(text);
  if (ignore) text = text.replace(/^\s*INSERT\s+OR\s+IGNORE\s+INTO\b/i, 'INSERT INTO');
  text = text
    .replace(/\bIFNULL\s*\(/gi, 'COALESCE(')
    .replace(/\binstr\s*\(/gi, 'strpos(')
    .replace(/\bjson_each\s*\(\s*\?\s*\)/gi, 'json_array_elements_text(?::json)')
    .replace(/\bLIKE\b/gi, 'ILIKE')
    .replace(/\bAS\s+([A-Za-z_]\w*)\b/g, (m, name: string) => (/[a-z]/.test(name) && /[A-Z]/.test(name) ? `AS "${name}"` : m));
  text = withNullsOrder(text);
  const { text: bound, names, count } = placeholders(text);
  text = bound;
  if (ignore) text += ' ON CONFLICT DO NOTHING';
  const table = /^\s*INSERT\s+INTO\s+([A-Za-z_]\w*)/i.exec(text)?.[1]?.toLowerCase();
  const returning = table ? GENERATED_KEYS[table] : undefined;
  if (returning && !/\bRETURNING\b/i.test(text)) text += ` RETURNING ${returning}`;
  return { text: unmask(text, kept), ...(names ? { names } : {}), count, ...(returning ? { returning } : {}) };
}

/** The values bound to a translated query, from better-sqlite3-style arguments. */
export function bindValues(query: PgQuery, args: unknown[]): unknown[] {
  const flat = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  if (query.names) {
    const named = flat[0];
    if (flat.length !== 1 || typeof named !== 'object' || named === null)
      throw new DialectError('named parameters need one object of values');
    return query.names.map((n) => {
      if (!(n in named)) throw new DialectError(`missing named parameter '${n}'`);
      return toParam((named as Record<string, unknown>)[n]);
    });
  }
  if (flat.length !== query.count) throw new DialectError(`the query takes ${query.count} parameter(s), got ${flat.length}`);
  return flat.map(toParam);
}

function toParam(v: unknown): unknown {
  if (v === undefined) throw new DialectError('undefined is not a value a query can bind (use null)');
  if (typeof v === 'boolean') throw new DialectError('booleans are bound as 1 or 0, as in SQLite');
  if (typeof v === 'bigint') return v.toString();
  return v;
}
