/**
 * The host's lookups for a mail's sender by its signature (message/accept-signer.ts), each
 * through an index of migration 018 on SQLite and PostgreSQL alike: whether an address is
 * any agent's (agents_address), and the agent holding a key (agents_fingerprint), with
 * whether it uses the address as the store's own lower() says (as findAgentsByAddress asks).
 */
import type { TrustedSender } from '../message/accept.js';
import type { Db } from '../store/db.js';
import { statement } from '../store/statement.js';

/** The SQL of the two lookups (test/pg/queries.test.ts and lookup-indexes.test.ts check their plans). */
export const SIGNER_SQL = {
  addressInUse: 'SELECT 1 AS one FROM agents WHERE lower(address) = ? LIMIT 1',
  // the address compared in the select list, not the WHERE: SQLite would search by address then
  keyHolders: 'SELECT id, address, public_key, lower(address) = ? AS here FROM agents WHERE fingerprint = ? ORDER BY seq',
} as const;

/** Whether any registered agent uses this (normalised) address. */
export function addressInUse(db: Db, address: string): boolean {
  return statement(db, SIGNER_SQL.addressInUse).get(address) !== undefined;
}

/** The agents of this (normalised) address whose key has this fingerprint (upper-case hex), in registry order. */
export function agentsWithKeyAt(db: Db, address: string, fingerprint: string): TrustedSender[] {
  const rows = statement(db, SIGNER_SQL.keyHolders).all(address, fingerprint) as {
    id: string;
    address: string;
    public_key: string;
    here: number | boolean;
  }[];
  return rows.filter((r) => r.here === true || r.here === 1).map((r) => ({ id: r.id, address: r.address, armoredKey: r.public_key }));
}
