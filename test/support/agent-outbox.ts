// What an agent told the host: the signed payloads of the mail in the agent's own outbox
// (kept after sending), each signature checked with the agent's exported key, so a test
// reads exactly what went out, without depending on how the host shows it.
import path from 'node:path';
import Database from 'better-sqlite3';
import { readPublicKeyFile } from '../../src/core/crypto/keys.js';
import { verifySignedData } from '../../src/core/crypto/signed-data.js';
import { parseRdsMail } from '../../src/core/message/mail.js';
import { decodePayload, type Payload } from '../../src/core/message/payload.js';
import type { AgentNode } from './cli.js';

/** Every payload of KIND the agent queued, oldest first. */
export async function sentPayloads<B = Record<string, unknown>>(agent: AgentNode, kind: string): Promise<Payload<B>[]> {
  const db = new Database(path.join(agent.stateDir, 'state.db'), { readonly: true, fileMustExist: true });
  let rows: { raw: Buffer | null }[];
  try {
    rows = db.prepare('SELECT raw FROM outbox WHERE kind = ? ORDER BY seq').all(kind) as { raw: Buffer | null }[];
  } finally {
    db.close();
  }
  const key = await readPublicKeyFile(agent.publicKeyFile);
  const payloads: Payload<B>[] = [];
  for (const { raw } of rows) {
    if (!raw) throw new Error(`an outbox item of kind ${kind} has no stored mail`);
    const mail = await parseRdsMail(raw);
    if (!mail.armoredPayload) throw new Error(`an outbox item of kind ${kind} carries no payload`);
    payloads.push(decodePayload(await verifySignedData(mail.armoredPayload, key)) as Payload<B>);
  }
  return payloads;
}
