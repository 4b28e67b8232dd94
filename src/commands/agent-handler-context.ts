import type { AgentHandlerContext } from '../core/agent/handlers.js';
import type { AgentConfig } from '../core/config/schema.js';
import { readPublicKeyFile } from '../core/crypto/keys.js';
import { REFUSAL } from '../core/errors.js';
import { type AcceptPolicy, normaliseAddress } from '../core/message/accept.js';
import { wasProcessed } from '../core/message/inbound.js';
import type { Context } from './context.js';

export async function agentHandlerContext(ctx: Context<AgentConfig>): Promise<AgentHandlerContext> {
  return {
    db: ctx.db,
    config: ctx.config,
    self: { id: ctx.config.id, address: ctx.config.address, key: await ctx.privateKey() },
    hostKey: await readPublicKeyFile(ctx.config.hostKeyFile),
    clock: ctx.clock,
    ttlMs: ctx.ttlMs,
    logger: ctx.logger,
  };
}

/** What an agent accepts (mail taken in by poll-mail, an exported update given to apply-update): its host's signed messages. */
export function agentAcceptPolicy(ctx: Context<AgentConfig>, handlerCtx: AgentHandlerContext): AcceptPolicy {
  return {
    selfId: ctx.config.id,
    // read the key each time: a key-rotation message re-pins it mid-pass
    sendersFor: (address) =>
      address === normaliseAddress(ctx.config.hostAddress)
        ? [{ id: ctx.config.hostId, address: ctx.config.hostAddress, key: handlerCtx.hostKey }]
        : [],
    unknownSenderCode: REFUSAL.SENDER_MISMATCH,
    acceptBroadcast: true,
    wasProcessed: (id) => wasProcessed(ctx.db, id),
    clock: ctx.clock,
    skewMs: ctx.skewMs,
  };
}
