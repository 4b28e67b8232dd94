import path from 'node:path';
import { EXIT } from '../core/errors.js';
import { pushAll } from '../core/host/push-all.js';
import { selectAgents } from '../core/host/registry.js';
import { findRollout, rolloutAgents } from '../core/host/rollout-store.js';
import { rolloutRecord } from '../core/host/rollout-waves-store.js';
import { openContext } from './context.js';
import { openMailSender } from './mail-context.js';
import { progress } from './progress.js';
import { planLines, pushData, pushPlan } from './push-plan.js';
import type { OptionsOf } from './specs/define.js';
import type { pushAll as pushAllSpec } from './specs/host.js';
import { formatTable } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

export type PushOptions = OptionsOf<typeof pushAllSpec>;

export async function run(options: PushOptions, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'push-all', { role: 'host', lock: ['outbox'] });
  try {
    let file = options.args[0] ? path.resolve(options.args[0]) : undefined;
    let agents = selectAgents(ctx.db, options.agents, options.exclude);
    if (options.retryFailed) {
      const rollout = findRollout(ctx.db, options.retryFailed) as { id: string; file: string };
      file ??= rollout.file;
      // the open waves only: a later wave is rds rollout advance's (docs/rollouts.md)
      const open = rolloutRecord(ctx.db, rollout.id)?.currentWave ?? 1;
      const failed = new Set(
        rolloutAgents(ctx.db, rollout.id)
          .filter((a) => a.status !== 'sent' && a.wave <= open && a.state !== 'skipped')
          .map((a) => a.agentId),
      );
      agents = agents.filter((a) => failed.has(a.id));
    }
    if (!file) {
      const { UsageError } = await import('../core/errors.js');
      throw new UsageError('MISSING_ARGUMENT', 'push-all needs a package FILE (or --retry-failed ROLLOUT)');
    }
    if (options.retryFailed && agents.length === 0) {
      return { data: { rolloutId: options.retryFailed, agents: [] }, text: `rollout ${options.retryFailed}: no failed agents to retry` };
    }
    const plan = pushPlan(options);
    const bar = progress(globals, `pushing to ${agents.length} agents`);
    const result = await pushAll({
      db: ctx.db,
      self: { id: ctx.config.id, address: ctx.config.address, key: await ctx.privateKey() },
      file,
      agents,
      dryRun: options.dryRun ?? false,
      clock: ctx.clock,
      ttlMs: ctx.ttlMs,
      maxMessageSize: ctx.config.maxMessageSize,
      logger: ctx.logger,
      sender: () => openMailSender(ctx),
      ...(options.retryFailed ? { retryRollout: options.retryFailed } : { plan }),
      onProgress: (done, total, agentId, error) => bar.update(`${done}/${total} ${agentId}${error ? ' failed' : ''}`),
    });
    bar.stop();
    const failed = result.agents.filter((a) => a.status !== 'sent' && a.status !== 'would-send' && a.status !== 'pending');
    const waves = result.waves > 1;
    const exitCode = result.stopped ? result.stopped.exitCode : failed.length > 0 ? EXIT.FAILED : EXIT.OK;
    const table = formatTable(
      ['Agent ID', 'Mail address', ...(waves ? ['Wave'] : []), 'Status', 'Error'],
      result.agents.map((a) => [a.agentId, a.address, ...(waves ? [String(a.wave)] : []), a.status, a.error ?? '']),
    );
    const sent = result.agents.filter((a) => a.status === 'sent').length;
    const pending = result.agents.filter((a) => a.status === 'pending').length;
    const head = result.dryRun
      ? `dry run: would push ${result.target} (package ${result.packageId}) to ${result.agents.length} agents`
      : `rollout ${result.rolloutId}: ${waves ? `wave 1 of ${result.waves}: ` : ''}${result.target} sent to ${sent} of ${result.agents.length} agents${pending > 0 ? '; the rest: rds rollout advance' : ''}`;
    const queued = result.agents.filter((a) => a.status === 'queued').length;
    const ended = result.agents.filter((a) => a.status === 'send-failed').length;
    const tail = result.dryRun
      ? `\n${planLines(result).join('\n')}`
      : result.stopped
        ? `\nmail: ${sent} sent, ${queued} still queued: ${result.stopped.message}${result.stopped.exitCode === EXIT.USAGE ? '; fix the config, then' : ';'} rds push-all --retry-failed ${result.rolloutId}`
        : failed.length > 0
          ? `\nmail: ${sent} sent, ${ended} failed${queued > 0 ? `, ${queued} still queued` : ''}; retry with: rds push-all --retry-failed ${result.rolloutId}`
          : '';
    return { exitCode, data: pushData(result), text: `${head}\n${table}${tail}` };
  } finally {
    ctx.close();
  }
}
