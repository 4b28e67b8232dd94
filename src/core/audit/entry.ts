/**
 * One audit entry and the hash chain (docs/audit.md). An entry is canonical JSON (keys
 * sorted, no spaces, strings and integers only), so the bytes hashed are the bytes stored
 * and exported. Hashing follows RFC 6962's domain separation:
 *
 *   leaf(n)  = SHA-256(0x00 || entry bytes)
 *   link(0)  = 32 zero bytes
 *   link(n)  = SHA-256(0x01 || link(n-1) || leaf(n))
 *
 * link(n), the head after n entries, is what a checkpoint signs: it commits to every entry
 * before it, in order, so an edited, deleted, inserted or reordered entry changes every
 * head from there on.
 */
import { createHash } from 'node:crypto';

export const AUDIT_FORMAT = 1;

/** Bounds: outside text (agent ids, versions, notes from mail) goes in as data, cut to these. */
export const LIMITS = { text: 512, agents: 10_000, detailKeys: 32 } as const;

export interface AuditEntry {
  v: number;
  /** 1-based position in the log */
  seq: number;
  /** ISO 8601 UTC */
  at: string;
  /** OS user and node id */
  by: { user: string; node: string };
  action: string;
  agents: string[];
  /** SHA-256 (hex) of the package file the action used or made */
  package?: string;
  /** the command's exit code (entries of commands only) */
  status?: number;
  detail: Record<string, string | number>;
  /** entries the last checkpoint covered when this one was appended: a deleted checkpoint is missed */
  sealed?: number;
}

/** What a caller gives; seq, at and v are filled in by the store. */
export interface AuditInput {
  action: string;
  agents?: readonly string[];
  package?: string;
  status?: number;
  detail?: Record<string, string | number | boolean | undefined | null>;
  user?: string;
  node?: string;
}

export const ZERO_HEAD = '0'.repeat(64);

export function cut(text: string, max: number = LIMITS.text): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** JSON with object keys sorted at every level and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The bounded entry for position `seq`. */
export function makeEntry(seq: number, at: string, input: AuditInput, defaults: { user: string; node: string }): AuditEntry {
  const detail: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(input.detail ?? {}).slice(0, LIMITS.detailKeys)) {
    if (value === undefined || value === null) continue;
    detail[cut(key, 64)] = typeof value === 'number' && Number.isSafeInteger(value) ? value : cut(String(value));
  }
  const agents = (input.agents ?? []).slice(0, LIMITS.agents).map((a) => cut(a, 128));
  if ((input.agents?.length ?? 0) > LIMITS.agents) detail.agentsTotal = input.agents?.length ?? 0;
  return {
    v: AUDIT_FORMAT,
    seq,
    at,
    by: { user: cut(input.user ?? defaults.user, 128), node: cut(input.node ?? defaults.node, 128) },
    action: cut(input.action, 64),
    agents,
    ...(input.package ? { package: cut(input.package, 64) } : {}),
    ...(input.status !== undefined ? { status: input.status } : {}),
    detail,
  };
}

export function leafHash(entryText: string): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(entryText, 'utf8')
    .digest();
}

/** link(n) from link(n-1) (hex) and entry n's canonical text; hex. */
export function linkHash(prevHex: string, entryText: string): string {
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(Buffer.from(prevHex, 'hex'))
    .update(leafHash(entryText))
    .digest('hex');
}

/** SHA-256 of a file's bytes (hex), for the package an action used. */
export function fileHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
