import { findAgent, findAgentsByAddress, removeAgent } from '../core/host/registry.js';
import { endMailTo } from '../core/outbox/outbox.js';
import { openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { agentsRemove } from './specs/fleet.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: OptionsOf<typeof agentsRemove>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'agents remove', { role: 'host' });
  try {
    const id = options.args[0] as string;
    const agent = findAgent(ctx.db, id);
    let ended = 0;
    ctx.db.transaction(() => {
      removeAgent(ctx.db, id);
      // its queued mail is not tried again (it was retried on every later command forever)
      if (agent && findAgentsByAddress(ctx.db, agent.address).length === 0)
        ended = endMailTo(ctx.db, agent.address, `agent ${id} was removed from the registry`, ctx.clock.now());
    })();
    return {
      data: { removed: id, droppedMail: ended },
      text: `removed ${id}${ended > 0 ? `; ${ended} queued mail(s) to ${agent?.address} dropped (rds outbox list shows them)` : ''}`,
    };
  } finally {
    ctx.close();
  }
}
