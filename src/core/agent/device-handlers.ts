import type { CounterReading } from '../devices/counter-reading.js';
import { hasCounterReadings, listUnsentCounterReadings, markCounterReadingsSent } from '../devices/counter-store.js';
import { markFaultAcked } from '../devices/fault-reports.js';
import type { ReportKind } from '../devices/fault-store.js';
import { REFUSAL, SecurityError } from '../errors.js';
import type { HandlerRegistry } from '../message/inbound.js';
import { queueMessage } from '../message/outgoing.js';
import type { AgentHandlerContext } from './handlers.js';

/** At most this many readings in one counter report (keeps mail far below size limits). */
export const MAX_READINGS_PER_REPORT = 500;

export interface CounterReportBody {
  status: 'ok' | 'not-collected' | 'nothing-new';
  readings: CounterReading[];
  more: boolean;
}

/**
 * fault-ack: the host acknowledges fault reports (docs/protocol.md#message-types). counter-request: the
 * agent mails the readings the host has not received yet, or says "not collected yet"
 * (docs/protocol.md#message-types).
 */
export function deviceHandlers(ctx: AgentHandlerContext): HandlerRegistry {
  return {
    'fault-ack': async ({ accepted }) => {
      const acks = accepted.payload.body.acks;
      if (!Array.isArray(acks)) throw new SecurityError(REFUSAL.MALFORMED, 'fault ack lacks its acks list');
      let n = 0;
      for (const ack of acks as { eventId?: unknown; kind?: unknown }[]) {
        if (typeof ack?.eventId !== 'string' || (ack.kind !== 'raised' && ack.kind !== 'cleared')) continue;
        if (markFaultAcked(ctx.db, ack.eventId, ack.kind as ReportKind, ctx.clock.now())) n++;
      }
      return `acked ${n}`;
    },
    'counter-request': async ({ accepted }) => {
      const readings = listUnsentCounterReadings(ctx.db, { limit: MAX_READINGS_PER_REPORT + 1 });
      const more = readings.length > MAX_READINGS_PER_REPORT;
      const sending = readings.slice(0, MAX_READINGS_PER_REPORT);
      const status: CounterReportBody['status'] = sending.length > 0 ? 'ok' : hasCounterReadings(ctx.db) ? 'nothing-new' : 'not-collected';
      const body: CounterReportBody = { status, readings: sending, more };
      const payload = await queueMessage(
        ctx.db,
        ctx.self,
        {
          type: 'counter-report',
          toId: ctx.config.hostId,
          toAddress: ctx.config.hostAddress,
          body,
          inReplyTo: accepted.payload.id,
          subject: `[rds] counters from ${ctx.self.id}: ${status === 'ok' ? `${sending.length} readings` : status}`,
          text:
            status === 'not-collected'
              ? 'Counters not collected yet.'
              : `${sending.length} counter readings attached in the signed payload.`,
        },
        { clock: ctx.clock, ttlMs: ctx.ttlMs },
      );
      markCounterReadingsSent(
        ctx.db,
        sending.map((r) => r.readingId),
        payload.id,
        ctx.clock.now(),
      );
      return status;
    },
  };
}
