/**
 * Exactly once with several workers (docs/protocol.md#several-workers): the host's inbox may
 * run as several processes at once over one store and one mailbox, and each of them may
 * fetch the same mail. A mail is acted on only by the worker whose claim wins: an insert of
 * the payload id into `processed_messages` (the replay ledger, primary key `id`), in ONE
 * transaction with the handler's act and every effect of it. A worker killed before the
 * commit leaves no claim and no effect (the mail stays in INBOX for another worker or the
 * next pass); a worker that loses the claim acts on nothing. The ledger row keeps the
 * mail's location (its UID in the mailbox): a mail found already processed at the same
 * location is the same mail, taken by another worker or left in INBOX by a pass killed
 * between its commit and its move, and is not acted on again; a copy elsewhere (a second
 * delivery, a replay) stays `REPLAYED`. Who moves it (inbound.ts): a claim made before this
 * pass began was left by an earlier pass, and this pass moves the mail; a claim made since
 * is a worker running now, which moves its own mail (two MOVEs of one mail at once would
 * leave two copies in the processed folder).
 */
import { REFUSAL, SecurityError } from '../errors.js';
import type { Db } from '../store/db.js';
import { runLater } from '../store/statement.js';
import { isPostgres } from '../store/types.js';

export interface Claim {
  id: string;
  type: string;
  sender: string;
  /** where this copy of the mail is (InboxMessage.uid) */
  location: string;
  now: Date;
}

/** What became of a claimed mail: acted on here, or the same mail acted on before (by another worker or pass). */
export type ClaimResult = { kind: 'acted'; outcome: string } | { kind: 'done-before'; claimedAt: string | null };

/**
 * The ledger's row for `id`: where its processed copy was (null: before migration 017) and
 * when it was claimed, or undefined when never processed.
 */
export type Seen = { location: string | null; processed_at: string | null } | undefined;

export function lookUpClaim(db: Db, id: string): Seen {
  return db.prepare('SELECT location, processed_at FROM processed_messages WHERE id = ?').get(id) as Seen;
}

/**
 * Whether `id` was processed from another copy than the one at `location` (the replay
 * pre-check of accept.ts); `remember` gets the row it read, for actOnce's pre-check.
 */
export function processedElsewhere(db: Db, id: string, location: string, remember?: (seen: Seen) => void): boolean {
  const row = lookUpClaim(db, id);
  remember?.(row);
  return row !== undefined && row.location !== location;
}

/** The PostgreSQL store's transaction around async work (src/core/store/pg/pg-db.ts). */
interface AsyncWriter {
  writeTransactionAsync<T>(body: () => Promise<T>): Promise<T>;
}

/**
 * A write transaction around async work on this one connection. SQLite: `BEGIN IMMEDIATE`
 * takes the write lock first (workers queue on the busy timeout, no snapshot conflict
 * later); inside a transaction already (a caller's batch), a savepoint. PostgreSQL: the
 * store's writer transaction (BEGIN and its writers' lock, as `.immediate()` there).
 */
async function inTransaction<T>(db: Db, work: () => Promise<T>): Promise<T> {
  if (isPostgres(db)) return (db as unknown as AsyncWriter).writeTransactionAsync(work);
  const nested = db.inTransaction;
  db.exec(nested ? 'SAVEPOINT rds_claim' : 'BEGIN IMMEDIATE');
  try {
    const result = await work();
    db.exec(nested ? 'RELEASE rds_claim' : 'COMMIT');
    return result;
  } catch (error) {
    if (nested) db.exec('ROLLBACK TO rds_claim; RELEASE rds_claim');
    else if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

class LostClaim extends Error {
  constructor(
    readonly location: string | null,
    readonly claimedAt: string | null,
  ) {
    super('claim lost');
  }
}

/**
 * Claim `claim.id` and run `act` in the same transaction. The claim is lost when the ledger
 * holds the id already: at the same location → `done-before` (nothing runs); elsewhere → a
 * replay (`REPLAYED`, quarantined by the caller as before). `looked`: the ledger's row as the
 * replay check read it just before (one query less per mail; a claim committed since is
 * still met by the insert below).
 */
export async function actOnce(db: Db, claim: Claim, act: () => Promise<string>, looked?: { seen: Seen }): Promise<ClaimResult> {
  try {
    // a committed claim is final: decided without waiting for the write lock
    const seen = looked ? looked.seen : lookUpClaim(db, claim.id);
    if (seen) throw new LostClaim(seen.location, seen.processed_at);
    return await inTransaction(db, async () => {
      const won = db
        .prepare(
          `INSERT INTO processed_messages (id, type, sender, processed_at, outcome, location) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
        )
        .run(claim.id, claim.type, claim.sender, claim.now.toISOString(), 'claimed', claim.location);
      if (won.changes !== 1) {
        const row = lookUpClaim(db, claim.id) as NonNullable<Seen>;
        throw new LostClaim(row.location, row.processed_at);
      }
      const outcome = await act();
      runLater(db, 'UPDATE processed_messages SET outcome = ? WHERE id = ?', outcome, claim.id); // PostgreSQL: with the COMMIT
      return { kind: 'acted', outcome } as const;
    });
  } catch (error) {
    if (!(error instanceof LostClaim)) throw error;
    if (error.location === claim.location) return { kind: 'done-before', claimedAt: error.claimedAt };
    throw new SecurityError(REFUSAL.REPLAYED, `payload ${claim.id} was processed before (replay)`);
  }
}
