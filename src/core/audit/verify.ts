/**
 * Verify an audit log: the chain (entry.ts) entry by entry, streamed, and every checkpoint's
 * signature by the node key. Stops at the first bad entry and names it and why; see
 * docs/audit.md for each finding.
 */
import type * as openpgp from 'openpgp';
import { openCheckpoint } from './checkpoint.js';
import { type AuditEntry, canonicalJson, linkHash, ZERO_HEAD } from './entry.js';
import type { AuditRow } from './store.js';

export interface AuditProblem {
  /** the first bad entry (1-based) */
  entry: number;
  reason: string;
}

export interface AuditVerdict {
  entries: number;
  checkpoints: number;
  /** entries after the last checkpoint: not yet signed */
  unsealed: number;
  head: string;
  problem?: AuditProblem;
}

type Sealed = { head: string } | { problem: string };

/** Each checkpoint's signature, checked before the entries are read. */
async function openCheckpoints(checkpoints: readonly { count: number; signed: string }[], keys: openpgp.PublicKey[]) {
  const byCount = new Map<number, Sealed>();
  for (const c of checkpoints) {
    try {
      const body = await openCheckpoint(c.signed, keys);
      byCount.set(c.count, body.count === c.count ? { head: body.head } : { problem: `its signature is for ${body.count} entries` });
    } catch (error) {
      byCount.set(c.count, { problem: `its signature is not the node key's (${(error as Error).message})` });
    }
  }
  return byCount;
}

/** One row against the chain so far: the reason it is bad, or its link. */
export function checkRow(row: AuditRow, n: number, prev: string): { link: string } | { reason: string } {
  if (row.seq !== n)
    return {
      reason:
        row.seq > n
          ? `entry ${n} is missing (deleted): the log goes on at entry ${row.seq}`
          : `entry ${row.seq} appears again after entry ${n - 1}`,
    };
  let entry: AuditEntry;
  try {
    entry = JSON.parse(row.entry) as AuditEntry;
  } catch {
    return { reason: 'it is not an audit entry (edited)' };
  }
  if (canonicalJson(entry) !== row.entry) return { reason: 'it is not in canonical form (edited)' };
  if (entry.seq !== n) return { reason: `it holds entry ${entry.seq} (reordered or moved)` };
  if (entry.at !== row.at) return { reason: 'its time column differs from the entry (edited)' };
  const link = linkHash(prev, row.entry);
  if (link !== row.hash) return { reason: 'its content does not match its hash (edited)' };
  return { link };
}

export async function verifyAudit(
  rows: Iterable<AuditRow> | AsyncIterable<AuditRow>,
  checkpoints: readonly { count: number; signed: string }[],
  keys: openpgp.PublicKey[],
): Promise<AuditVerdict> {
  const sealed = await openCheckpoints(checkpoints, keys);
  let prev = ZERO_HEAD;
  let n = 0;
  let lastSealed = 0;
  const verdict = (problem?: AuditProblem): AuditVerdict => ({
    entries: n,
    checkpoints: sealed.size,
    unsealed: n - lastSealed,
    head: prev,
    ...(problem ? { problem } : {}),
  });
  for await (const row of rows) {
    const found = checkRow(row, n + 1, prev);
    if ('reason' in found) return verdict({ entry: n + 1, reason: found.reason });
    const entry = JSON.parse(row.entry) as AuditEntry;
    if (entry.sealed && !sealed.has(entry.sealed)) {
      return verdict({
        entry: entry.sealed,
        reason: `the checkpoint signed for ${entry.sealed} entries is missing (deleted); entry ${n + 1} names it`,
      });
    }
    n += 1;
    prev = found.link;
    const seal = sealed.get(n);
    if (seal && 'problem' in seal) return verdict({ entry: n, reason: `the checkpoint at entry ${n} is forged: ${seal.problem}` });
    if (seal && seal.head !== prev) {
      return verdict({
        entry: lastSealed + 1,
        reason: `entries ${lastSealed + 1}–${n} do not match the checkpoint signed at entry ${n} (rewritten)`,
      });
    }
    if (seal) lastSealed = n;
  }
  const beyond = [...sealed.keys()].filter((c) => c > n).sort((a, b) => a - b)[0];
  if (beyond === undefined) return verdict();
  const seal = sealed.get(beyond);
  if (seal && 'problem' in seal) return verdict({ entry: beyond, reason: `the checkpoint at entry ${beyond} is forged: ${seal.problem}` });
  return verdict({
    entry: n + 1,
    reason: `entry ${n + 1} is missing (truncated): the log ends at ${n} entries, a checkpoint was signed for ${beyond}`,
  });
}
