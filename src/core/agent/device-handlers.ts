import { hasCounterReadings, listUnsentCounterReadings, markCounterReadingsSent, markFaultAcked } from '../devices/index.js';
import type { HandlerRegistry } from '../message/inbound.js';
import { queueMessage } from '../message/outgoing.js';
import { COUNTER_REPORT, type CounterReportBody, type CounterStatus, MAX_READINGS_PER_REPORT } from '../protocol/counter-report.js';
import { COUNTER_REQUEST } from '../protocol/counter-request.js';
import { FAULT_ACK } from '../protocol/fault-ack.js';
import { bodyHandler } from '../protocol/index.js';
import type { AgentHandlerContext } from './handlers.js';

/**
 * fault-ack: the host acknowledges fault reports (docs/protocol.md#message-types). counter-request: the
 * agent mails the readings the host has not received yet, or says "not collected yet"
 * (docs/protocol.md#message-types).
 */
export function deviceHandlers(ctx: AgentHandlerContext): HandlerRegistry {
  return {
    [FAULT_ACK]: bodyHandler(FAULT_ACK, ctx.clock, async ({ acks }) => {
      let n = 0;
      for (const ack of acks) if (markFaultAcked(ctx.db, ack.eventId, ack.kind, ctx.clock.now())) n++;
      return `acked ${n}`;
    }),
    [COUNTER_REQUEST]: bodyHandler(COUNTER_REQUEST, ctx.clock, async (_request, { accepted }) => {
      const readings = listUnsentCounterReadings(ctx.db, { limit: MAX_READINGS_PER_REPORT + 1 });
      const more = readings.length > MAX_READINGS_PER_REPORT;
      const sending = readings.slice(0, MAX_READINGS_PER_REPORT);
      const status: CounterStatus = sending.length > 0 ? 'ok' : hasCounterReadings(ctx.db) ? 'nothing-new' : 'not-collected';
      const body: CounterReportBody = { status, readings: sending, more };
      const payload = await queueMessage(
        ctx.db,
        ctx.self,
        {
          type: COUNTER_REPORT,
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
    }),
  };
}
