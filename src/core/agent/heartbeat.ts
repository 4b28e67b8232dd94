/**
 * The heartbeat (docs/service.md): a small signed message to the host saying this agent is
 * alive, with each device it watches and when that device last answered (a fault poll or a
 * counter read). Sent by `rds heartbeat`, and by `watch-faults` when the configured
 * interval (default 1d) has passed since the last one, so silence at the host means something.
 */
import { parseDuration } from '../duration.js';
import type { AgentHandlerContext } from './handlers.js';

export const DEFAULT_HEARTBEAT_INTERVAL = '1d';

export function heartbeatIntervalMs(config: { heartbeatInterval?: string }): number {
  return parseDuration(config.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL, 'heartbeatInterval');
}

export function lastHeartbeatAt(ctx: Pick<AgentHandlerContext, 'db'>): string | null {
  return (ctx.db.prepare('SELECT max(sent_at) AS at FROM agent_heartbeats').get() as { at: string | null }).at;
}

export function heartbeatDue(ctx: Pick<AgentHandlerContext, 'db' | 'clock' | 'config'>): boolean {
  const last = lastHeartbeatAt(ctx);
  return last === null || ctx.clock.now().getTime() - Date.parse(last) >= heartbeatIntervalMs(ctx.config);
}

/** Queue one heartbeat (the caller flushes the outbox); its payload id. */
export async function queueHeartbeat(ctx: AgentHandlerContext): Promise<{ id: string; devices: number }> {
  // loaded here, not at import: watch-faults checks heartbeatDue every pass and signs once a day
  const [{ queueMessage }, { HEARTBEAT }] = await Promise.all([import('../message/outgoing.js'), import('../protocol/heartbeat.js')]);
  const devices = (
    ctx.db
      .prepare(
        `SELECT d.id AS deviceId,
           max(COALESCE(p.last_ok_at, ''), COALESCE((SELECT max(read_at) FROM counter_readings c WHERE c.device_id = d.id), '')) AS at
         FROM devices d LEFT JOIN device_poll_state p ON p.device_id = d.id ORDER BY d.id`,
      )
      .all() as { deviceId: string; at: string }[]
  ).map((d) => ({ deviceId: d.deviceId, lastAnsweredAt: d.at === '' ? null : d.at }));
  const payload = await queueMessage(
    ctx.db,
    ctx.self,
    {
      type: HEARTBEAT,
      toId: ctx.config.hostId,
      toAddress: ctx.config.hostAddress,
      body: { devices },
      subject: `[rds] heartbeat from ${ctx.self.id}`,
      text: `${ctx.self.id} is running and watches ${devices.length} device(s).`,
    },
    { clock: ctx.clock, ttlMs: ctx.ttlMs },
  );
  ctx.db.prepare('INSERT INTO agent_heartbeats (message_id, sent_at) VALUES (?, ?)').run(payload.id, ctx.clock.now().toISOString());
  return { id: payload.id, devices: devices.length };
}
