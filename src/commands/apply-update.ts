import fs from 'node:fs';
import path from 'node:path';
import type { AgentConfig } from '../core/config/schema.js';
import { readPublicKeyFile } from '../core/crypto/keys.js';
import { EXIT, FailedError, UsageError } from '../core/errors.js';
import { type ApplyResult, applyUpdate } from '../core/install/apply.js';
import { installLayout } from '../core/install/layout.js';
import { isExportFile, readHead } from '../core/package/export-file.js';
import { agentAcceptPolicy, agentHandlerContext } from './agent-handler-context.js';
import { type Context, openContext } from './context.js';
import type { applyUpdate as applyUpdateSpec } from './specs/agent.js';
import type { OptionsOf } from './specs/define.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: OptionsOf<typeof applyUpdateSpec>, globals: GlobalOptions): Promise<CommandResult> {
  const file = path.resolve(options.args[0] as string);
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new UsageError('PACKAGE_UNREADABLE', `update package ${file} does not exist or is not a file`);
  }
  // an exported update (export-update) takes the update handler's path, which takes the install lock itself
  const exported = isExportFile(readHead(file));
  const ctx = await openContext(globals, 'apply-update', { role: 'agent', lock: exported ? [] : ['install'] });
  try {
    if (exported) return await applyExported(ctx, file);
    const result = await applyUpdate({
      db: ctx.db,
      layout: installLayout(ctx.config.installRoot),
      stateDir: ctx.config.stateDir,
      file,
      agentKey: await ctx.privateKey(),
      hostKey: await readPublicKeyFile(ctx.config.hostKeyFile),
      clock: ctx.clock,
      logger: ctx.logger,
    });
    return applied(result, {});
  } finally {
    ctx.close();
  }
}

async function applyExported(ctx: Context<AgentConfig>, file: string): Promise<CommandResult> {
  const { applyExportedUpdate } = await import('../core/agent/offline-update.js');
  const handlerCtx = await agentHandlerContext(ctx);
  const r = await applyExportedUpdate(handlerCtx, agentAcceptPolicy(ctx, handlerCtx), file);
  const extra = { rolloutId: r.rolloutId, payloadId: r.payloadId, resultQueued: true };
  const queued = `\nthe update result${r.rolloutId ? ` for rollout ${r.rolloutId}` : ''} is queued for the host: the next rds poll-mail sends it`;
  // the handler may also answer without installing (whatever it reports, the host hears it)
  if (!r.applied) return { data: { outcome: r.outcome, ...extra }, text: `update ${r.outcome}${queued}` };
  return applied(r.applied, extra, queued);
}

function applied(result: ApplyResult, extra: Record<string, unknown>, note = ''): CommandResult {
  if (result.outcome === 'rolled-back') {
    throw new FailedError(
      result.reasonCode ?? 'INSTALL_FAILED',
      `${result.reason}; rolled back, still on ${result.version}${note}\n--- install log (last lines, ${result.logFile}) ---\n${result.logTail ?? ''}`,
      { details: { ...result, ...extra } },
    );
  }
  const text =
    result.outcome === 'installed'
      ? `installed ${result.version} (was ${result.previousVersion}), package ${result.packageId}`
      : `package ${result.packageId} is already installed; nothing to do (running ${result.version})`;
  return { data: { ...result, ...extra }, text: `${text}${note}`, exitCode: EXIT.OK };
}
