import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { UsageError } from '../errors.js';

/**
 * OWASP "CSV injection": a spreadsheet runs a cell starting with = + - @ TAB or CR as a
 * formula, so such a cell gets a leading apostrophe (shown as text, never evaluated).
 */
export function neutraliseCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** RFC 4180 CSV through csv-stringify: every field (header too) quoted when it needs it. */
export function writeCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [header, ...rows].map((row) => row.map(neutraliseCell));
  return stringify(cells, { record_delimiter: 'unix', quoted_match: /^\s|\s$/ }).replace(/\n$/, '');
}

/** RFC 4180 CSV through csv-parse; a malformed file is a usage error naming the file and line. */
export function readCsv(text: string, file: string): string[][] {
  try {
    return parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true, bom: true }) as string[][];
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw new UsageError('BAD_IMPORT', `${file}${line ? ` line ${line}` : ''}: not valid CSV (${(e as Error).message.split(':')[0]})`);
  }
}
