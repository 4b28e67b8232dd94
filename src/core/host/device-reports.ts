import type { Clock } from '../clock.js';
import { REFUSAL, SecurityError } from '../errors.js';
import type { Handler, HandlerRegistry } from '../message/inbound.js';
import { queueMessage, type Sender } from '../message/outgoing.js';
import { COUNTER_REPORT } from '../protocol/counter-report.js';
import { FAULT_ACK } from '../protocol/fault-ack.js';
import { FAULT_REPORT } from '../protocol/fault-report.js';
import { HEARTBEAT } from '../protocol/heartbeat.js';
import { bodyHandler } from '../protocol/index.js';
import { recordDeviceSeen, storeSupplyLevels } from '../service/host-events.js';
import type { ServiceSettings } from '../service/settings.js';
import type { Db } from '../store/db.js';
import { findAgent } from './registry.js';
import { markAnswered } from './requests.js';

export interface HostDeviceContext {
  db: Db;
  clock: Clock;
  self: Sender;
  ttlMs: number;
  service: ServiceSettings;
}

/** fault-report: stored once per (agent, event) however often it arrives, and acked every time (a resend means the agent missed the ack). */
const handleFaultReport = (ctx: HostDeviceContext): Handler =>
  bodyHandler(FAULT_REPORT, ctx.clock, async ({ reports }, { accepted }) => {
    const { payload } = accepted;
    const now = ctx.clock.now().toISOString();
    const upsert = ctx.db.prepare(
      `INSERT INTO host_faults (agent_id, event_id, device_id, code, subunit, severity, source, raised_at, cleared_at, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (agent_id, event_id) DO UPDATE SET reports = host_faults.reports + 1,
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
        type: FAULT_ACK,
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
  });

/** counter-report: readings stored once per (agent, reading id). */
const handleCounterReport = (ctx: HostDeviceContext): Handler =>
  bodyHandler(COUNTER_REPORT, ctx.clock, async ({ status, readings }, { accepted }) => {
    const { payload } = accepted;
    const insert = ctx.db.prepare(
      `INSERT OR IGNORE INTO host_counters (agent_id, reading_id, device_id, serial, read_at, total, mono, colour, reading, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const now = ctx.clock.now().toISOString();
    let stored = 0;
    ctx.db.transaction(() => {
      for (const r of readings) {
        const row = [r.readingId, r.deviceId, r.serial ?? null, r.readAt, r.total ?? null, r.mono ?? null, r.colour ?? null];
        stored += insert.run(payload.from, ...row, JSON.stringify(r), now).changes;
        storeSupplyLevels(ctx.db, payload.from, r, ctx.service, ctx.clock.now());
      }
    })();
    markAnswered(ctx.db, payload.inReplyTo, payload.from, status, now);
    return `${status} ${stored}`;
  });

/** heartbeat: when each device the agent watches last answered. */
const handleHeartbeat = (ctx: HostDeviceContext): Handler =>
  bodyHandler(HEARTBEAT, ctx.clock, async ({ devices }, { accepted }) => {
    const { payload } = accepted;
    ctx.db.transaction(() => {
      for (const d of devices) recordDeviceSeen(ctx.db, payload.from, d.deviceId, d.lastAnsweredAt, ctx.clock.now());
    })();
    return `heard, ${devices.length} device(s)`;
  });

export function hostDeviceHandlers(ctx: HostDeviceContext): HandlerRegistry {
  return {
    [FAULT_REPORT]: handleFaultReport(ctx),
    [COUNTER_REPORT]: handleCounterReport(ctx),
    [HEARTBEAT]: handleHeartbeat(ctx),
  };
}
