import { COUNTER_REQUEST } from '../core/protocol/counter-request.js';
import { openContext } from './context.js';
import { type RequestOptions, requestAndWait } from './host-requests.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: RequestOptions, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'request-counters', { role: 'host', lock: { perPass: ['mailbox', 'outbox'] } });
  try {
    return await requestAndWait(ctx, COUNTER_REQUEST, 'counters', options);
  } finally {
    ctx.close();
  }
}
