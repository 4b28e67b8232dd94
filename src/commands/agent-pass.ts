/**
 * What an agent's cron pass (poll-mail, watch-faults) starts from without loading openpgp:
 * its key files checked as a pass that reads them would (core/crypto/key-check.ts), and the
 * handler context (keys read, openpgp loaded) built on first need only.
 */
import type { AgentHandlerContext } from '../core/agent/handlers.js';
import { readSecret } from '../core/config/config.js';
import type { AgentConfig } from '../core/config/schema.js';
import { checkKeyFiles } from '../core/crypto/key-check.js';
import type { Context } from './context.js';

export async function checkAgentKeys(ctx: Context<AgentConfig>): Promise<void> {
  const { config } = ctx;
  const keys = [
    { file: config.keyFile, kind: 'private' as const },
    { file: config.hostKeyFile, kind: 'public' as const },
  ];
  await checkKeyFiles(config.stateDir, keys, () => readSecret(ctx.env.RDS_KEY_PASSPHRASE, config.keyPassphraseFile, 'key passphrase'));
}

/** agentHandlerContext (agent-handler-context.ts), built on the first call and kept. */
export function lazyHandlerContext(ctx: Context<AgentConfig>): () => Promise<AgentHandlerContext> {
  let built: Promise<AgentHandlerContext> | undefined;
  return () => {
    built ??= import('./agent-handler-context.js').then((m) => m.agentHandlerContext(ctx));
    return built;
  };
}
