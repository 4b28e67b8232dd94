import type { HostConfig } from '../core/config/schema.js';
import { batchAlerts, routeNewEvents } from '../core/service/alerts.js';
import { type PassResult, servicePass } from '../core/service/host-events.js';
import { serviceSettings } from '../core/service/settings.js';
import type { Context } from './context.js';

/**
 * The host's service pass: raise and clear supply and silence events from what the store
 * holds; with `alerts`, also queue new events for their recipients and put the batches
 * due into the outbox (the caller flushes).
 */
export async function runServicePass(ctx: Context<HostConfig>, options: { alerts: boolean }) {
  const settings = serviceSettings(ctx.config);
  const events: PassResult = servicePass(ctx.db, settings, ctx.clock.now());
  if (!options.alerts) return { events, queued: 0, batches: [] };
  const queued = routeNewEvents(ctx.db, settings, ctx.clock.now());
  const batches = await batchAlerts(ctx.db, settings, { id: ctx.config.id, address: ctx.config.address }, ctx.clock);
  return { events, queued, batches };
}

export function servicePassLines(pass: Awaited<ReturnType<typeof runServicePass>>): string[] {
  const lines: string[] = [];
  for (const e of pass.events.raised)
    lines.push(`raised ${e.kind} on ${[e.agentId, e.deviceId].filter(Boolean).join('/')}${e.subject ? ` (${e.subject})` : ''}`);
  for (const e of pass.events.cleared)
    lines.push(`cleared ${e.kind} on ${[e.agentId, e.deviceId].filter(Boolean).join('/')}${e.subject ? ` (${e.subject})` : ''}`);
  for (const b of pass.batches) lines.push(`alert mail to ${b.recipient}: ${b.events} event(s)`);
  return lines;
}
