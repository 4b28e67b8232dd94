import { readVersionReport } from '../core/agent/installed.js';
import { installLayout } from '../core/install/layout.js';
import { recoverIfIdle } from '../core/install/recover.js';
import { formatVersionText, formatVersionTextAligned } from '../core/version/version-text.js';
import { openContext } from './context.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: { aligned?: boolean }, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'versions', { role: 'agent' });
  try {
    // after a crash mid-update, report the version `current` points at, not a stale record
    recoverIfIdle({
      db: ctx.db,
      layout: installLayout(ctx.config.installRoot),
      stateDir: ctx.config.stateDir,
      clock: ctx.clock,
      logger: ctx.logger,
    });
    const report = readVersionReport(ctx.db);
    return { data: report, text: options.aligned ? formatVersionTextAligned(report) : formatVersionText(report) };
  } finally {
    ctx.close();
  }
}
