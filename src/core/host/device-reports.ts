import type { Clock } from '../clock.js';
import { REFUSAL, SecurityError } from '../errors.js';
import type { HandlerRegistry } from '../message/inbound.js';
import { queueMessage, type Sender } from '../message/outgoing.js';
import type { Db } from '../store/db.js';
import { findAgent } from './registry.js';
import { markAnswered } from './requests.js';

export interface HostDeviceContext {
  db: Db;
  clock: Clock;
  self: Sender;
  ttlMs: number;
}

interface IncomingFault {
  eventId: string;
  kind: 'raised' | 'cleared';
  deviceId: string;
  code: string;
  subunit: string;
  severity: string;
  source?: string;
  raisedAt: string;
  clearedAt: string | null;
}

function isFault(x: unknown): x is IncomingFault {
  const f = x as Record<string, unknown>;
  return (
    typeof f?.eventId === 'string' &&
    (f.kind === 'raised' || f.kind === 'cleared') &&
    typeof f.deviceId === 'string' &&
    typeof f.code === 'string' &&
    typeof f.subunit === 'string' &&
    typeof f.severity === 'string' &&
    typeof f.raisedAt === 'string' &&
    // bound to SQL as they are: any other type made the insert throw, and the mail then
    // stayed in the inbox, crashing every later pass of `rds inbox` (a poison message)
    (f.source === undefined || typeof f.source === 'string') &&
    (f.clearedAt === undefined || f.clearedAt === null || typeof f.clearedAt === 'string')
  );
}

/**
 * fault-report: stored once per (agent, event) however often it arrives, and acked every
 * time (a resend means the agent missed the ack). counter-report: readings stored once per
 * (agent, reading id).
 */
export function hostDeviceHandlers(ctx: HostDeviceContext): HandlerRegistry {
  return {
    'fault-report': async ({ accepted }) => {
      const { payload } = accepted;
      const reports = payload.body.reports;
      if (!Array.isArray(reports) || !reports.every(isFault))
        throw new SecurityError(REFUSAL.MALFORMED, 'fault report lacks a valid reports list');
      const now = ctx.clock.now().toISOString();
      const upsert = ctx.db.prepare(
        `INSERT INTO host_faults (agent_id, event_id, device_id, code, subunit, severity, source, raised_at, cleared_at, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (agent_id, event_id) DO UPDATE SET reports = reports + 1,
           cleared_at = COALESCE(excluded.cleared_at, host_faults.cleared_at)`,
      );
      ctx.db.transaction(() => {
        for (const f of reports) {
          upsert.run(payload.from, f.eventId, f.deviceId, f.code, f.subunit, f.severity, f.source ?? null, f.raisedAt, f.clearedAt, now);
        }
      })();
      const agent = findAgent(ctx.db, payload.from);
      if (!agent) throw new SecurityError(REFUSAL.UNKNOWN_SENDER, `agent ${payload.from} is not registered`);
      await queueMessage(
        ctx.db,
        ctx.self,
        {
          type: 'fault-ack',
          toId: agent.id,
          toAddress: agent.address,
          body: { acks: reports.map((f) => ({ eventId: f.eventId, kind: f.kind })), reportMessageId: payload.id },
          inReplyTo: payload.id,
          subject: `[rds] fault ack for ${agent.id}`,
          text: `${reports.length} fault report(s) received.`,
        },
        { clock: ctx.clock, ttlMs: ctx.ttlMs },
      );
      ctx.db
        .prepare(`UPDATE host_faults SET acked_at = ? WHERE agent_id = ? AND event_id IN (SELECT value FROM json_each(?))`)
        .run(now, agent.id, JSON.stringify(reports.map((f) => f.eventId)));
      return `stored ${reports.length}, acked`;
    },
    'counter-report': async ({ accepted }) => {
      const { payload } = accepted;
      const { status, readings } = payload.body as { status?: unknown; readings?: unknown };
      if (typeof status !== 'string' || !Array.isArray(readings))
        throw new SecurityError(REFUSAL.MALFORMED, 'counter report lacks status/readings');
      const insert = ctx.db.prepare(
        `INSERT OR IGNORE INTO host_counters (agent_id, reading_id, device_id, serial, read_at, total, mono, colour, reading, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const now = ctx.clock.now().toISOString();
      let stored = 0;
      ctx.db.transaction(() => {
        for (const r of readings as Record<string, unknown>[]) {
          if (typeof r?.readingId !== 'string' || typeof r.deviceId !== 'string' || typeof r.readAt !== 'string') {
            throw new SecurityError(REFUSAL.MALFORMED, 'counter report holds a reading without id/device/time');
          }
          const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
          stored += insert.run(
            payload.from,
            r.readingId,
            r.deviceId,
            typeof r.serial === 'string' ? r.serial : null,
            r.readAt,
            num(r.total),
            num(r.mono),
            num(r.colour),
            JSON.stringify(r),
            now,
          ).changes;
        }
      })();
      markAnswered(ctx.db, payload.inReplyTo, payload.from, status, now);
      return `${status} ${stored}`;
    },
  };
}
