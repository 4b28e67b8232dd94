/**
 * The export file (docs/audit.md): JSON lines. Line 1 a header, then every checkpoint, then
 * every entry in order, each as stored (the entry's canonical text and its head), so an
 * auditor re-checks the same bytes with the node's public key alone.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { REFUSAL, SecurityError, UsageError } from '../errors.js';
import type { AuditRow, CheckpointRow } from './store.js';

export const EXPORT_FORMAT = 'rds-audit-export';

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  v: 1;
  node: string;
  exportedAt: string;
  entries: number;
  checkpoints: number;
}

export function* exportLines(header: ExportHeader, checkpoints: readonly CheckpointRow[], rows: Iterable<AuditRow>): Generator<string> {
  yield JSON.stringify(header);
  for (const c of checkpoints) yield JSON.stringify({ checkpoint: { count: c.count, signed: c.signed } });
  for (const r of rows) yield JSON.stringify({ seq: r.seq, at: r.at, entry: r.entry, hash: r.hash });
}

export interface ExportFile {
  header: ExportHeader;
  checkpoints: { count: number; signed: string }[];
  rows: AsyncIterable<AuditRow>;
}

/** Open an export: the header and checkpoints read now, the entries streamed. */
export async function readExport(file: string): Promise<ExportFile> {
  const lines = readline
    .createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY })
    [Symbol.asyncIterator]();
  const first = await lines.next();
  let header: ExportHeader | undefined;
  try {
    header = first.done ? undefined : (JSON.parse(first.value) as ExportHeader);
  } catch {}
  if (header?.format !== EXPORT_FORMAT) throw new UsageError('AUDIT_EXPORT_INVALID', `${file} line 1: not an rds audit export`);
  const checkpoints: { count: number; signed: string }[] = [];
  let pending: string | undefined;
  let line = 1;
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    line += 1;
    const parsed = parseLine(file, line, next.value);
    if (!('checkpoint' in parsed)) {
      pending = next.value;
      break;
    }
    checkpoints.push(parsed.checkpoint);
  }
  async function* rows(): AsyncGenerator<AuditRow> {
    if (pending === undefined) return;
    yield parseLine(file, line, pending) as AuditRow;
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      line += 1;
      const parsed = parseLine(file, line, next.value);
      if ('checkpoint' in parsed)
        throw new SecurityError(REFUSAL.AUDIT_TAMPERED, `${file} line ${line}: a checkpoint among the entries (reordered)`);
      yield parsed;
    }
  }
  return { header, checkpoints, rows: rows() };
}

function parseLine(file: string, line: number, text: string): AuditRow | { checkpoint: { count: number; signed: string } } {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new SecurityError(REFUSAL.AUDIT_TAMPERED, `${file} line ${line}: not JSON (edited or cut)`);
  }
  const c = value.checkpoint as { count?: unknown; signed?: unknown } | undefined;
  if (c && Number.isSafeInteger(c.count) && typeof c.signed === 'string')
    return { checkpoint: { count: c.count as number, signed: c.signed } };
  if (
    Number.isSafeInteger(value.seq) &&
    typeof value.at === 'string' &&
    typeof value.entry === 'string' &&
    typeof value.hash === 'string'
  ) {
    return value as unknown as AuditRow;
  }
  throw new SecurityError(REFUSAL.AUDIT_TAMPERED, `${file} line ${line}: neither an entry nor a checkpoint (edited)`);
}
