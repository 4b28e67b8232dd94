/**
 * fault-ack (host → agent): the host has stored these fault reports (docs/protocol.md). The
 * agent marks each (event, raised/cleared) acknowledged; an entry of another shape is
 * skipped, not refused, so one odd entry never costs the others. Extra fields are ignored.
 */
import { type BodyCodec, Decoder } from './decoder.js';
import type { FaultKind } from './fault-report.js';

export const FAULT_ACK = 'fault-ack';

export interface FaultAckBody {
  acks: { eventId: string; kind: FaultKind }[];
  /** the fault-report message these acks answer */
  reportMessageId?: string;
}

export function encodeFaultAck(body: FaultAckBody): Record<string, unknown> {
  return {
    acks: body.acks.map((a) => ({ eventId: a.eventId, kind: a.kind })),
    ...(body.reportMessageId === undefined ? {} : { reportMessageId: body.reportMessageId }),
  };
}

export function decodeFaultAck(value: unknown): FaultAckBody {
  const d: Decoder = new Decoder('fault ack');
  const b = d.object(value, 'body');
  if (!Array.isArray(b.acks)) d.refuse('acks', 'fault ack lacks its acks list');
  const acks: FaultAckBody['acks'] = [];
  for (const ack of b.acks as { eventId?: unknown; kind?: unknown }[]) {
    if (typeof ack?.eventId !== 'string' || (ack.kind !== 'raised' && ack.kind !== 'cleared')) continue;
    acks.push({ eventId: ack.eventId, kind: ack.kind });
  }
  return { acks, ...(typeof b.reportMessageId === 'string' ? { reportMessageId: b.reportMessageId } : {}) };
}

export const faultAck: BodyCodec<FaultAckBody> = { encode: encodeFaultAck, decode: decodeFaultAck };
