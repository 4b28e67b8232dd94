import path from 'node:path';
import { formatDuration, parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { exportUpdate } from '../core/host/export-update.js';
import { openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { exportUpdate as exportUpdateSpec } from './specs/host.js';
import type { CommandResult, GlobalOptions } from './types.js';

const MIN_VALID_MS = 60_000;
const MAX_VALID_MS = 365 * 86_400_000;

export async function run(options: OptionsOf<typeof exportUpdateSpec>, globals: GlobalOptions): Promise<CommandResult> {
  const validForMs = parseDuration(options.validFor, '--valid-for');
  if (validForMs < MIN_VALID_MS || validForMs > MAX_VALID_MS) {
    throw new UsageError(
      'BAD_DURATION',
      `--valid-for ${options.validFor}: must be between ${formatDuration(MIN_VALID_MS)} and ${formatDuration(MAX_VALID_MS)}`,
    );
  }
  if (options.output === '-') {
    throw new UsageError('BAD_OUTPUT', '-o -: export-update writes a file (name it with -o FILE), never standard output');
  }
  const ctx = await openContext(globals, 'export-update', { role: 'host' });
  try {
    const result = await exportUpdate({
      db: ctx.db,
      self: { id: ctx.config.id, address: ctx.config.address, key: await ctx.privateKey() },
      file: path.resolve(options.args[0]),
      agentId: options.agent,
      ...(options.rollout ? { rolloutId: options.rollout } : {}),
      validForMs,
      ...(options.output ? { output: options.output } : {}),
      force: options.force ?? false,
      clock: ctx.clock,
    });
    const text = [
      `exported ${result.target} (package ${result.packageId}) for ${result.agentId}: ${result.file}`,
      `  ${result.newRollout ? 'new rollout' : 'rollout'} ${result.rolloutId}: ${result.agentId} counted as sent; valid until ${result.expiresAt}`,
      `  on the agent: rds apply-update ${path.basename(result.file)}`,
    ].join('\n');
    return { data: result, text };
  } finally {
    ctx.close();
  }
}
