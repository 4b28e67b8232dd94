import type { Clock } from '../clock.js';
import { REFUSAL, SecurityError } from '../errors.js';
import type { HandlerRegistry } from '../message/inbound.js';
import { queueMessage, type Sender } from '../message/outgoing.js';
import { recordDeviceSeen, storeSupplyLevels } from '../service/host-events.js';
import type { ServiceSettings } from '../service/settings.js';
import type { Db } from '../store/db.js';
import { decodeCounterReport, decodeFaultReport, decodeHeartbeat } from './decode.js';
import { findAgent } from './registry.js';
import { markAnswered } from './requests.js';

export interface HostDeviceContext {
  db: Db;
  clock: Clock;
  self: Sender;
  ttlMs: number;
  service: ServiceSettings;
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
      const reports = decodeFaultReport(payload.body, ctx.clock.now());
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
      const { status, readings } = decodeCounterReport(payload.body, ctx.clock.now());
      const insert = ctx.db.prepare(
        `INSERT OR IGNORE INTO host_counters (agent_id, reading_id, device_id, serial, read_at, total, mono, colour, reading, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const now = ctx.clock.now().toISOString();
      let stored = 0;
      ctx.db.transaction(() => {
        for (const r of readings) {
          stored += insert.run(
            payload.from,
            r.readingId,
            r.deviceId,
            r.serial,
            r.readAt,
            r.total,
            r.mono,
            r.colour,
            JSON.stringify(r.raw),
            now,
          ).changes;
          storeSupplyLevels(
            ctx.db,
            payload.from,
            { ...r.raw, deviceId: r.deviceId, readAt: r.readAt, readingId: r.readingId },
            ctx.service,
            ctx.clock.now(),
          );
        }
      })();
      markAnswered(ctx.db, payload.inReplyTo, payload.from, status, now);
      return `${status} ${stored}`;
    },
    heartbeat: async ({ accepted }) => {
      const { payload } = accepted;
      const { devices } = decodeHeartbeat(payload.body, ctx.clock.now());
      ctx.db.transaction(() => {
        for (const d of devices) recordDeviceSeen(ctx.db, payload.from, d.deviceId, d.lastAnsweredAt, ctx.clock.now());
      })();
      return `heard, ${devices.length} device(s)`;
    },
  };
}
