import { EXIT } from '../core/errors.js';
import { advanceRollouts, type RolloutMove } from '../core/host/rollout-pass.js';
import { showText } from '../core/text/show.js';
import { openContext } from './context.js';
import { runEvery } from './every.js';
import { inboxLocks, inboxPass } from './inbox.js';
import { mailExitCode, mailLine } from './mail-context.js';
import type { OptionsOf } from './specs/define.js';
import type { rolloutAdvance } from './specs/host.js';
import type { CommandResult, GlobalOptions } from './types.js';

/** One line per rollout that moved or stands halted; none for one that waits (docs/rollouts.md). */
export function moveLine(m: RolloutMove): string | undefined {
  const id = showText(m.rollout);
  if (m.state === 'halted') {
    return `rollout ${id} halted: ${showText(m.haltReason ?? '')}; nothing more is sent (rds rollout resume ${id} or rds rollout abort ${id})`;
  }
  if (m.error) return `rollout ${id}: nothing sent: ${showText(m.error)}`;
  const parts: string[] = [];
  if (m.opened !== undefined) parts.push(`wave ${m.opened} of ${m.waves} opened`);
  if (m.queued.length > 0) parts.push(`${m.queued.length} update mail${m.queued.length === 1 ? '' : 's'} queued`);
  if (m.resent.length > 0) parts.push(`re-sent to ${m.resent.length} silent (${m.resent.join(', ')})`);
  if (m.timedOut.length > 0) parts.push(`${m.timedOut.length} timed out (${m.timedOut.join(', ')})`);
  if (m.state === 'done') parts.push('done');
  if (parts.length === 0) return undefined;
  return `rollout ${id} (wave ${m.wave} of ${m.waves}): ${parts.join(', ')}`;
}

export async function run(options: OptionsOf<typeof rolloutAdvance>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'rollout advance', {
    role: 'host',
    lock: inboxLocks(options),
  });
  try {
    const self = { id: ctx.config.id, address: ctx.config.address, key: await ctx.privateKey() };
    return await runEvery(options.every, ctx.logger, async () => {
      const pass = await inboxPass(
        ctx,
        undefined,
        async () => {
          // under the outbox lock: no push-all queues the same rollout's mail meanwhile (docs/locks.md)
          const lock = ctx.locks.take('outbox');
          if (!lock) return undefined;
          try {
            return await advanceRollouts({ db: ctx.db, self, clock: ctx.clock, ttlMs: ctx.ttlMs, logger: ctx.logger }, options.args[0]);
          } finally {
            lock.release();
          }
        },
        options.worker === true,
      );
      if (!pass.extra) pass.lines.push('outbox busy (another pass sends): the rollouts move on the next pass');
      const moves = pass.extra ?? [];
      const halted = moves.filter((m) => m.state === 'halted' || m.error);
      const lines = [...pass.lines, ...moves.map(moveLine).filter((l): l is string => l !== undefined)];
      const line = mailLine(pass.mail);
      if (line) lines.push(line);
      const exitCode = halted.length > 0 ? mailExitCode(EXIT.FAILED, pass.mail) : pass.exitCode;
      return { exitCode, data: { rollouts: moves, ...pass.data }, text: lines.length > 0 ? lines.join('\n') : 'nothing to do' };
    });
  } finally {
    ctx.close();
  }
}
