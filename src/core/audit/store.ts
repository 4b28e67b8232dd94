/**
 * The audit log in the node's store (tables audit_log and audit_checkpoints, migration 014).
 * Appending is one INSERT with the previous head read in the same transaction: no chain
 * walk per entry. Checkpoints are written by checkpoint.ts (they need the node key).
 */
import os from 'node:os';
import type { Db } from '../store/db.js';
import { statement } from '../store/statement.js';
import { type AuditEntry, type AuditInput, canonicalJson, linkHash, makeEntry, ZERO_HEAD } from './entry.js';

export interface AuditRow {
  seq: number;
  at: string;
  entry: string;
  hash: string;
}

export interface CheckpointRow {
  count: number;
  head: string;
  at: string;
  signed: string;
}

const identity = { node: '' };

/** An append that leaves this many entries unsigned asks for a checkpoint (signer.ts). */
export const AUDIT_CHECKPOINT_EVERY = 64;
const growth = new WeakMap<Db, () => void>();

export function onAuditGrowth(db: Db, ask: () => void): void {
  growth.set(db, ask);
}

/** The node id entries name when a caller gives none (set once a command knows its config). */
export function setAuditNode(node: string): void {
  identity.node = node;
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** Append one entry; returns it. Inside a caller's transaction it joins it (a savepoint). */
export function appendAudit(db: Db, input: AuditInput, now: Date = new Date()): AuditEntry {
  const append = db.transaction(() => {
    const last = statement(db, 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
      | { seq: number; hash: string }
      | undefined;
    const sealed = statement(db, 'SELECT MAX(count) AS c FROM audit_checkpoints').get() as { c: number | null };
    const entry = makeEntry((last?.seq ?? 0) + 1, now.toISOString(), input, { user: osUser(), node: identity.node });
    if (sealed.c) entry.sealed = sealed.c;
    const text = canonicalJson(entry);
    statement(db, 'INSERT INTO audit_log (seq, at, entry, hash) VALUES (?, ?, ?, ?)').run(
      entry.seq,
      entry.at,
      text,
      linkHash(last?.hash ?? ZERO_HEAD, text),
    );
    return entry;
  });
  const entry = db.inTransaction ? append() : append.immediate();
  if (entry.seq - (entry.sealed ?? 0) >= AUDIT_CHECKPOINT_EVERY) growth.get(db)?.();
  return entry;
}

/** The number of entries and the head after the last one. */
export function auditHead(db: Db): { count: number; head: string } {
  const last = statement(db, 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
    | { seq: number; hash: string }
    | undefined;
  return last ? { count: last.seq, head: last.hash } : { count: 0, head: ZERO_HEAD };
}

export function lastCheckpointCount(db: Db): number {
  return (statement(db, 'SELECT MAX(count) AS c FROM audit_checkpoints').get() as { c: number | null }).c ?? 0;
}

/** Every row in order, one at a time (verify streams: no whole-log read). */
export function auditRows(db: Db, since?: string): IterableIterator<AuditRow> {
  return since
    ? (db.prepare('SELECT seq, at, entry, hash FROM audit_log WHERE at >= ? ORDER BY seq').iterate(since) as IterableIterator<AuditRow>)
    : (db.prepare('SELECT seq, at, entry, hash FROM audit_log ORDER BY seq').iterate() as IterableIterator<AuditRow>);
}

export function checkpointRows(db: Db): CheckpointRow[] {
  return db.prepare('SELECT count, head, at, signed FROM audit_checkpoints ORDER BY count').all() as CheckpointRow[];
}

export function insertCheckpoint(db: Db, row: CheckpointRow): boolean {
  return (
    db
      .prepare('INSERT OR IGNORE INTO audit_checkpoints (count, head, at, signed) VALUES (?, ?, ?, ?)')
      .run(row.count, row.head, row.at, row.signed).changes === 1
  );
}
