import type { HostConfig } from '../core/config/schema.js';
import { hostPolicy } from '../core/host/policy.js';
import { hostHandlers } from '../core/host/reports.js';
import type { HandlerRegistry } from '../core/message/inbound.js';
import { receiveMessages } from '../core/message/inbound.js';
import type { VerifyPool } from '../core/message/verify-pool.js';
import { PARTS_REQUEST } from '../core/protocol/parts-request.js';
import { recordHeard } from '../core/service/host-events.js';
import { serviceSettings } from '../core/service/settings.js';
import type { Context } from './context.js';
import { openMailInbox } from './mail-context.js';

/**
 * One pass of taking in agent mail (shared by inbox, verify --wait, request-versions --wait).
 * Each mail is claimed in the store with its act (exactly once, also with several workers);
 * `worker`: without the mailbox lock, next to other workers (docs/deployment.md#workers).
 */
export async function takeInMail(ctx: Context<HostConfig>, max?: number, worker = false) {
  // MIME parse and signature checks on worker threads, 32 mails ahead (the first worker starts
  // now, while the handlers load and the mailbox is opened); on SQLite 100 mails per
  // transaction (PostgreSQL: one transaction per mail, the claim's own)
  const { VerifyPool } = await import('../core/message/verify-pool.js');
  const pool = new VerifyPool();
  pool.warm();
  try {
    return await takeInMailWith(ctx, pool, max, worker);
  } finally {
    await pool.close();
  }
}

async function takeInMailWith(ctx: Context<HostConfig>, pool: VerifyPool, max: number | undefined, worker: boolean) {
  const { hostDeviceHandlers } = await import('../core/host/device-reports.js');
  const { handlePartsRequest, DEFAULT_MAX_RESENDS } = await import('../core/host/parts-requests.js');
  const self = { id: ctx.config.id, address: ctx.config.address, key: await ctx.privateKey() };
  const handlerCtx = { db: ctx.db, clock: ctx.clock, self, ttlMs: ctx.ttlMs, logger: ctx.logger, service: serviceSettings(ctx.config) };
  // last heard: any message that passed every check and was handled, at the host's receive time
  const heard = (registry: HandlerRegistry): HandlerRegistry =>
    Object.fromEntries(
      Object.entries(registry).map(([type, handle]) => [
        type,
        async (input: Parameters<typeof handle>[0]) => {
          const outcome = await handle(input);
          recordHeard(ctx.db, input.accepted.payload.from, type, ctx.clock.now());
          return outcome;
        },
      ]),
    );
  const { isPostgres } = await import('../core/store/types.js');
  let inbox: Awaited<ReturnType<typeof openMailInbox>> | undefined;
  try {
    inbox = await openMailInbox(ctx, worker);
    return await receiveMessages({
      db: ctx.db,
      inbox,
      handlers: heard(
        hostHandlers(handlerCtx, {
          ...hostDeviceHandlers(handlerCtx),
          [PARTS_REQUEST]: handlePartsRequest({ ...handlerCtx, maxResends: ctx.config.parts?.maxResends ?? DEFAULT_MAX_RESENDS }),
        }),
      ),
      maxMessageSize: ctx.config.maxMessageSize,
      ...(max ? { maxMessages: max } : {}),
      clock: ctx.clock,
      logger: ctx.logger,
      policy: hostPolicy(ctx.db, ctx.config.id, ctx.clock, ctx.skewMs),
      claims: true,
      checker: pool,
      ahead: /^pop3s?:/i.test(ctx.config.imap) ? 1 : 32, // POP3: one command at a time, nothing read ahead
      batch: isPostgres(ctx.db) ? 1 : 100,
    });
  } finally {
    await inbox?.close();
  }
}
