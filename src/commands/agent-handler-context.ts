import type { AgentHandlerContext } from '../core/agent/handlers.js';
import type { AgentConfig } from '../core/config/schema.js';
import { readPublicKeyFile } from '../core/crypto/keys.js';
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
