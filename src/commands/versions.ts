import { agentVersionReport } from '../core/install/agent-node.js';
import { formatVersionText, formatVersionTextAligned } from '../core/version/version-text.js';
import { openContext } from './context.js';
import type { versions } from './specs/agent.js';
import type { OptionsOf } from './specs/define.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: OptionsOf<typeof versions>, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'versions', { role: 'agent' });
  try {
    const report = agentVersionReport(ctx);
    return { data: report, text: options.aligned ? formatVersionTextAligned(report) : formatVersionText(report) };
  } finally {
    ctx.close();
  }
}
