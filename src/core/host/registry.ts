import type * as openpgp from 'openpgp';
import { UsageError } from '../errors.js';
import { normaliseAddress } from '../message/accept.js';
import type { Db } from '../store/db.js';
import { runLater, statement } from '../store/statement.js';

/** Every registered key's fingerprint and its agent (one pass over the table). */
export function keyHolders(db: Db): Map<string, string> {
  const rows = statement(db, 'SELECT fingerprint, id FROM agents').all() as { fingerprint: string; id: string }[];
  return new Map(rows.map((r) => [r.fingerprint, r.id]));
}

/** local@domain: no spaces, brackets or quotes, a dotted domain of letters, digits and hyphens. */
export const MAIL_ADDRESS =
  /^[^\s@<>()[\]\\,;:"]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The fleet registry (host), in registry order: the original system's VersionManager list. */
export interface AgentRecord {
  id: string;
  address: string;
  publicKey: string;
  fingerprint: string;
  note: string;
  version: string | null;
  checkedAt: string | null;
}

interface Row {
  id: string;
  address: string;
  public_key: string;
  fingerprint: string;
  note: string;
  version: string | null;
  checked_at: string | null;
}

const fromRow = (r: Row): AgentRecord => ({
  id: r.id,
  address: r.address,
  publicKey: r.public_key,
  fingerprint: r.fingerprint,
  note: r.note,
  version: r.version,
  checkedAt: r.checked_at,
});

export function listAgents(db: Db): AgentRecord[] {
  return (statement(db, 'SELECT * FROM agents ORDER BY seq').all() as Row[]).map(fromRow);
}

export function findAgent(db: Db, id: string): AgentRecord | undefined {
  const row = statement(db, 'SELECT * FROM agents WHERE id = ?').get(id) as Row | undefined;
  return row ? fromRow(row) : undefined;
}

export function findAgentsByAddress(db: Db, address: string): AgentRecord[] {
  return (statement(db, 'SELECT * FROM agents WHERE lower(address) = ? ORDER BY seq').all(normaliseAddress(address)) as Row[]).map(fromRow);
}

/** What addAgent needs of a key: a parsed key, or its fingerprint and armor kept from one (agents import). */
export type RegistryKey = Pick<openpgp.PublicKey, 'getFingerprint' | 'armor'>;

/**
 * Register one agent. `holders` (fingerprint → agent id, every registered key): the
 * one-key-one-agent check looks there instead of scanning the table (agents import of
 * 10,000 agents), and the new key is added to it.
 */
export function addAgent(
  db: Db,
  agent: { id: string; address: string; key: RegistryKey; note: string },
  now: Date,
  hostFingerprint?: string,
  holders?: Map<string, string>,
): AgentRecord {
  insertAgent(db, agent, now, hostFingerprint, holders);
  return findAgent(db, agent.id) as AgentRecord;
}

/** addAgent without reading the record back (`rds agents import`: 10,000 of them). */
export function insertAgent(
  db: Db,
  agent: { id: string; address: string; key: RegistryKey; note: string },
  now: Date,
  hostFingerprint?: string,
  holders?: Map<string, string>,
): void {
  if (!MAIL_ADDRESS.test(agent.address)) {
    throw new UsageError(
      'BAD_ADDRESS',
      `--address '${agent.address.slice(0, 80)}' is not a mail address (expected local@domain, e.g. agent1@customer.example)`,
    );
  }
  if (findAgent(db, agent.id)) throw new UsageError('AGENT_EXISTS', `agent '${agent.id}' is already registered`);
  const fingerprint = agent.key.getFingerprint().toUpperCase();
  if (hostFingerprint && fingerprint === hostFingerprint.toUpperCase()) {
    throw new UsageError(
      'HOST_KEY_AS_AGENT_KEY',
      `key ${fingerprint} is this host's own key, not an agent's: give the key \`rds keys export\` prints on the agent`,
    );
  }
  // One key, one agent: a second id on the same key could speak for the first one.
  const held = holders
    ? holders.get(fingerprint)
    : (statement(db, 'SELECT id FROM agents WHERE fingerprint = ?').get(fingerprint) as { id: string } | undefined)?.id;
  const holder = held === undefined ? undefined : { id: held };
  if (holder) {
    throw new UsageError('KEY_IN_USE', `key ${fingerprint} is already registered to agent '${holder.id}'; each agent needs its own key`, {
      details: { agentId: holder.id, fingerprint },
    });
  }
  statement(db, 'INSERT INTO agents (id, address, public_key, fingerprint, note, added_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    agent.id,
    agent.address,
    agent.key.armor(),
    fingerprint,
    agent.note,
    now.toISOString(),
  );
  holders?.set(fingerprint, agent.id);
}

export function removeAgent(db: Db, id: string): void {
  const result = statement(db, 'DELETE FROM agents WHERE id = ?').run(id);
  if (result.changes === 0) throw new UsageError('UNKNOWN_AGENT', `no agent '${id}' in the registry`);
}

export function recordAgentVersion(db: Db, id: string, version: string, checkedAt: string): void {
  runLater(
    db,
    'UPDATE agents SET version = ?, checked_at = ? WHERE id = ? AND (checked_at IS NULL OR checked_at <= ?)',
    version,
    checkedAt,
    id,
    checkedAt,
  );
}

/** `--agents A,B` / `--exclude C` (docs/commands.md#global-flags: comma-separated, case-preserving ids). */
export function selectAgents(db: Db, include?: string, exclude?: string): AgentRecord[] {
  const all = listAgents(db);
  const split = (s?: string) =>
    s
      ? s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : [];
  const wanted = split(include);
  const unknown = wanted.filter((id) => !all.some((a) => a.id === id));
  if (unknown.length > 0) throw new UsageError('UNKNOWN_AGENT', `no agent ${unknown.map((u) => `'${u}'`).join(', ')} in the registry`);
  const excluded = new Set(split(exclude));
  return all.filter((a) => (wanted.length === 0 || wanted.includes(a.id)) && !excluded.has(a.id));
}
