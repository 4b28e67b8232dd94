/**
 * What a node acts on (docs/protocol.md#the-signed-payload): a JSON document inside an OpenPGP signature. Mail
 * headers and Subject are for people and routing only.
 */
import { randomUUID } from 'node:crypto';
import type * as openpgp from 'openpgp';
import type { Clock } from '../clock.js';
import { signData } from '../crypto/signed-data.js';
import { REFUSAL, SecurityError } from '../errors.js';
import type { MessageType } from '../protocol/index.js';

export const PAYLOAD_FORMAT = 1;
export const ALL_AGENTS = '*';

/** The body types and their codecs: protocol/index.ts. */
export { MESSAGE_TYPES, type MessageType } from '../protocol/index.js';

export interface Payload<B = Record<string, unknown>> {
  format: number;
  type: string;
  id: string;
  /** sender node id */
  from: string;
  /** recipient node ids, or ['*'] for every agent */
  to: string[];
  issuedAt: string;
  expiresAt: string;
  inReplyTo?: string;
  body: B;
}

export interface BuildPayloadInput<B> {
  type: MessageType;
  from: string;
  to: string[];
  body: B;
  ttlMs: number;
  clock: Clock;
  inReplyTo?: string;
  id?: string;
}

export function buildPayload<B>(input: BuildPayloadInput<B>): Payload<B> {
  const issued = input.clock.now();
  return {
    format: PAYLOAD_FORMAT,
    type: input.type,
    id: input.id ?? randomUUID(),
    from: input.from,
    to: input.to,
    issuedAt: issued.toISOString(),
    expiresAt: new Date(issued.getTime() + input.ttlMs).toISOString(),
    ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}),
    body: input.body,
  };
}

export async function signPayload(payload: Payload<unknown>, key: openpgp.PrivateKey): Promise<string> {
  return signData(new TextEncoder().encode(JSON.stringify(payload)), key);
}

const ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;

function malformed(what: string): never {
  throw new SecurityError(REFUSAL.MALFORMED, `payload ${what}`);
}

/** Decode signed bytes into a payload, checking every field's shape (never trusting it). */
export function decodePayload(bytes: Uint8Array): Payload {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    malformed('is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    malformed(`is not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed('is not a JSON object');
  const p = value as Record<string, unknown>;
  if (typeof p.format !== 'number') malformed("has no numeric 'format'");
  if (p.format !== PAYLOAD_FORMAT) {
    throw new SecurityError(REFUSAL.UNSUPPORTED_FORMAT, `payload format ${p.format} is not supported (this rds reads ${PAYLOAD_FORMAT})`);
  }
  if (typeof p.type !== 'string' || p.type.length > 64) malformed("has no 'type'");
  if (typeof p.id !== 'string' || !ID_RE.test(p.id)) malformed("has no valid 'id'");
  if (typeof p.from !== 'string' || !ID_RE.test(p.from)) malformed("has no valid 'from'");
  if (!Array.isArray(p.to) || p.to.length === 0 || !p.to.every((t) => typeof t === 'string')) malformed("has no 'to' list");
  for (const field of ['issuedAt', 'expiresAt'] as const) {
    if (typeof p[field] !== 'string' || Number.isNaN(Date.parse(p[field] as string))) malformed(`has no valid '${field}'`);
  }
  if (p.inReplyTo !== undefined && (typeof p.inReplyTo !== 'string' || !ID_RE.test(p.inReplyTo))) malformed("has a bad 'inReplyTo'");
  if (typeof p.body !== 'object' || p.body === null || Array.isArray(p.body)) malformed("has no 'body' object");
  return p as unknown as Payload;
}
