import { VERSION_REQUEST } from '../core/protocol/version-request.js';
import { openContext } from './context.js';
import { type RequestOptions, requestAndWait } from './host-requests.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: RequestOptions, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'request-versions', { role: 'host', lock: { perPass: ['mailbox', 'outbox'] } });
  try {
    return await requestAndWait(ctx, VERSION_REQUEST, 'versions', options);
  } finally {
    ctx.close();
  }
}
