import { readVersionReport } from '../core/agent/installed.js';
import { formatVersionText, formatVersionTextAligned } from '../core/version/version-text.js';
import { openContext } from './context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: { aligned?: boolean }, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'versions', { role: 'agent' });
  try {
    const report = readVersionReport(ctx.db);
    return { data: report, text: options.aligned ? formatVersionTextAligned(report) : formatVersionText(report) };
  } finally {
    ctx.close();
  }
}
