import { type Move, moveRollout } from '../core/host/rollout-waves-store.js';
import { dropRolloutMail, holdRolloutMail } from '../core/outbox/outbox.js';
import { showText } from '../core/text/show.js';
import { openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { rolloutAbort, rolloutPause, rolloutResume } from './specs/host.js';
import type { CommandResult, GlobalOptions } from './types.js';

/**
 * pause / resume / abort (docs/rollouts.md#pause-resume-abort): the state change and what it
 * does to the rollout's unsent mails in one transaction, under the outbox lock (no flush
 * sends them meanwhile).
 */
async function move(id: string, what: Move, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, `rollout ${what}`, { role: 'host', lock: ['outbox'] });
  try {
    const now = ctx.clock.now();
    const { record, mails } = ctx.db
      .transaction(() => {
        const record = moveRollout(ctx.db, id, what);
        const mails =
          what === 'abort' ? dropRolloutMail(ctx.db, id, `rollout ${id} aborted`, now) : holdRolloutMail(ctx.db, id, what === 'pause', now);
        return { record, mails };
      })
      .immediate();
    const rid = showText(record.id);
    const text =
      what === 'pause'
        ? `rollout ${rid} paused: nothing more is sent (${mails} queued mail${mails === 1 ? '' : 's'} held); rds rollout resume ${rid}`
        : what === 'resume'
          ? `rollout ${rid} running again (${mails} held mail${mails === 1 ? '' : 's'} queued); the budgets count from here; rds rollout advance sends on`
          : `rollout ${rid} aborted: agents not sent yet are skipped, ${mails} unsent mail${mails === 1 ? '' : 's'} dropped`;
    return { data: { rollout: record.id, state: record.state, mails }, text };
  } finally {
    ctx.close();
  }
}

export const runPause = (o: OptionsOf<typeof rolloutPause>, g: GlobalOptions) => move(o.args[0], 'pause', g);
export const runResume = (o: OptionsOf<typeof rolloutResume>, g: GlobalOptions) => move(o.args[0], 'resume', g);
export const runAbort = (o: OptionsOf<typeof rolloutAbort>, g: GlobalOptions) => move(o.args[0], 'abort', g);
