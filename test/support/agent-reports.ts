// Signed agent → host mail made with an agent's real key, delivered into the host's Maildir
// inbox the way the embedded backend would: for histories the real agent would take weeks
// to produce (readings with past readAt times), taken in by the real `rds inbox`.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readPrivateKeyFile } from '../../src/core/crypto/keys.js';
import { MaildirSender } from '../../src/core/mail/maildir.js';
import { composeMail } from '../../src/core/message/mail.js';
import { buildPayload, type MessageType, signPayload } from '../../src/core/message/payload.js';
import type { AgentNode } from './cli.js';

export interface HistoryReading {
  deviceId: string;
  readAt: string;
  total: number;
  mono?: number;
  colour?: number;
  serial?: string;
  supplies?: unknown[];
}

export async function deliverFromAgent(
  root: string,
  agent: AgentNode,
  type: MessageType,
  body: Record<string, unknown>,
  hostAddress = 'host@example.com',
): Promise<string> {
  const key = await readPrivateKeyFile(path.join(agent.dir, 'keys', 'private.asc'));
  const payload = buildPayload({ type, from: agent.id, to: ['HOST'], body, ttlMs: 86_400_000, clock: { now: () => new Date() } });
  const { raw } = await composeMail({
    from: `${agent.id.toLowerCase()}@example.com`,
    to: hostAddress,
    subject: `[rds] ${type} from ${agent.id}`,
    text: type,
    type,
    payloadId: payload.id,
    armoredPayload: await signPayload(payload, key),
  });
  await new MaildirSender(path.join(root, 'mail')).sendRaw({ from: `${agent.id.toLowerCase()}@example.com`, to: [hostAddress] }, raw);
  return payload.id;
}

/** A counter report holding these readings (each gets a fresh reading id). */
export function deliverCounterReport(root: string, agent: AgentNode, readings: HistoryReading[]): Promise<string> {
  return deliverFromAgent(root, agent, 'counter-report', {
    status: 'ok',
    more: false,
    readings: readings.map((r) => ({
      format: 'rds-counter-reading/1',
      readingId: randomUUID(),
      serial: r.serial ?? `SER-${r.deviceId}`,
      model: 'SHARP MX-3570N',
      mono: r.mono ?? null,
      colour: r.colour ?? null,
      byService: {},
      byPaperSize: {},
      flags: [],
      supplies: r.supplies ?? [],
      ...r,
    })),
  });
}
