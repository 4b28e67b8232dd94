import type { Migration } from '../migrations.js';

/**
 * What a POP3 inbox has handled, by the server's UIDL (src/core/mail/pop3.ts): POP3 has
 * no folders or flags, so this record decides whether a mail still on the server was
 * already acted on. `account` is user@host:port, so two servers never share UIDLs.
 */
export const pop3: Migration = {
  version: 7,
  name: 'pop3',
  sql: `
    CREATE TABLE pop3_uidl (
      account TEXT NOT NULL,
      uidl TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('processed', 'quarantined', 'kept')),
      reason TEXT,
      settled_at TEXT NOT NULL,
      PRIMARY KEY (account, uidl)
    );
  `,
};
