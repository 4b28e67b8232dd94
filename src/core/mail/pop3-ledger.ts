/** The POP3 ledger in the state store (migration 007): which UIDLs of one account were settled, and how. */
import type { Db } from '../store/db.js';
import type { Pop3Ledger } from './pop3.js';
import { type ServerMailUrl, serverAddress } from './url.js';

/** Rows of mail the server no longer lists are kept this long (a server may list a mail again after a failed QUIT). */
const KEEP_GONE_MS = 7 * 24 * 3600 * 1000;

export function pop3Account(url: ServerMailUrl): string {
  return `${url.user ?? ''}@${serverAddress(url)}`;
}

export function storeLedger(db: Db, url: ServerMailUrl, now: () => Date = () => new Date()): Pop3Ledger {
  const account = pop3Account(url);
  const get = db.prepare('SELECT kind FROM pop3_uidl WHERE account = ? AND uidl = ?');
  const put = db.prepare(
    `INSERT INTO pop3_uidl (account, uidl, kind, reason, settled_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (account, uidl) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, settled_at = excluded.settled_at`,
  );
  return {
    settled: (uidl) => (get.get(account, uidl) as { kind: 'processed' | 'quarantined' | 'kept' } | undefined)?.kind,
    record: (uidl, kind, reason) => {
      put.run(account, uidl, kind, reason ?? null, now().toISOString());
    },
    forgetExcept: (present) => {
      const cutoff = new Date(now().getTime() - KEEP_GONE_MS).toISOString();
      const rows = db.prepare('SELECT uidl FROM pop3_uidl WHERE account = ? AND settled_at < ?').all(account, cutoff) as { uidl: string }[];
      const drop = db.prepare('DELETE FROM pop3_uidl WHERE account = ? AND uidl = ?');
      db.transaction(() => {
        for (const { uidl } of rows) if (!present.has(uidl)) drop.run(account, uidl);
      })();
    },
  };
}
