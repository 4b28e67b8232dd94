import type { HostConfig } from '../core/config/schema.js';
import { hostPolicy } from '../core/host/policy.js';
import { hostHandlers } from '../core/host/reports.js';
import { receiveMessages } from '../core/message/inbound.js';
import type { Context } from './context.js';
import { openMailInbox } from './mail-context.js';

/** One pass of taking in agent mail (shared by inbox, verify --wait, request-versions --wait). */
export async function takeInMail(ctx: Context<HostConfig>, max?: number) {
  const { hostDeviceHandlers } = await import('../core/host/device-reports.js');
  const self = { id: ctx.config.id, address: ctx.config.address, key: await ctx.privateKey() };
  const handlerCtx = { db: ctx.db, clock: ctx.clock, self, ttlMs: ctx.ttlMs, logger: ctx.logger };
  const inbox = await openMailInbox(ctx);
  try {
    return await receiveMessages({
      db: ctx.db,
      inbox,
      handlers: hostHandlers(handlerCtx, hostDeviceHandlers(handlerCtx)),
      maxMessageSize: ctx.config.maxMessageSize,
      ...(max ? { maxMessages: max } : {}),
      clock: ctx.clock,
      logger: ctx.logger,
      policy: hostPolicy(ctx.db, ctx.config.id, ctx.clock, ctx.skewMs),
    });
  } finally {
    await inbox.close();
  }
}
