/**
 * Checkpoints: {count, head, node, at} as canonical JSON, inline-signed with the node's
 * OpenPGP key (crypto/signed-data.ts). Written at the end of every command that added
 * entries; a checkpoint commits to every entry up to `count` (entry.ts: the head).
 */
import type * as openpgp from 'openpgp';
import { signData, verifySignedDataByAny } from '../crypto/signed-data.js';
import type { Db } from '../store/db.js';
import { canonicalJson } from './entry.js';
import { auditHead, insertCheckpoint, lastCheckpointCount } from './store.js';

export const CHECKPOINT_KIND = 'rds-audit-checkpoint';

export interface Checkpoint {
  kind: typeof CHECKPOINT_KIND;
  v: number;
  node: string;
  count: number;
  head: string;
  at: string;
}

/** Sign a checkpoint of the log as it stands, unless the last one covers it already. Returns the count signed. */
export async function writeCheckpoint(db: Db, key: openpgp.PrivateKey, node: string, now: Date): Promise<number | undefined> {
  const { count, head } = auditHead(db);
  if (count === 0 || lastCheckpointCount(db) >= count) return undefined;
  const body: Checkpoint = { kind: CHECKPOINT_KIND, v: 1, node, count, head, at: now.toISOString() };
  const signed = await signData(new TextEncoder().encode(canonicalJson(body)), key);
  insertCheckpoint(db, { count, head, at: body.at, signed });
  return count;
}

/** The checkpoint a signature by one of `keys` carries; throws SecurityError for any other signature. */
export async function openCheckpoint(signed: string, keys: openpgp.PublicKey[]): Promise<Checkpoint> {
  const { data } = await verifySignedDataByAny(signed, keys);
  const body = JSON.parse(new TextDecoder().decode(data)) as Checkpoint;
  if (body.kind !== CHECKPOINT_KIND || !Number.isSafeInteger(body.count) || typeof body.head !== 'string') {
    throw new Error('the signed data is not an audit checkpoint');
  }
  return body;
}
