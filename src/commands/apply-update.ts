import fs from 'node:fs';
import path from 'node:path';
import { readPublicKeyFile } from '../core/crypto/keys.js';
import { EXIT, FailedError, UsageError } from '../core/errors.js';
import { applyUpdate } from '../core/install/apply.js';
import { installLayout } from '../core/install/layout.js';
import { openContext } from './context.js';
import type { applyUpdate as applyUpdateSpec } from './specs/agent.js';
import type { OptionsOf } from './specs/define.js';
import type { CommandResult, GlobalOptions } from './types.js';

export async function run(options: OptionsOf<typeof applyUpdateSpec>, globals: GlobalOptions): Promise<CommandResult> {
  const file = path.resolve(options.args[0] as string);
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new UsageError('PACKAGE_UNREADABLE', `update package ${file} does not exist or is not a file`);
  }
  const ctx = await openContext(globals, 'apply-update', { role: 'agent', lock: ['install'] });
  try {
    const result = await applyUpdate({
      db: ctx.db,
      layout: installLayout(ctx.config.installRoot),
      stateDir: ctx.config.stateDir,
      file,
      agentKey: await ctx.privateKey(),
      hostKey: await readPublicKeyFile(ctx.config.hostKeyFile),
      clock: ctx.clock,
      logger: ctx.logger,
    });
    if (result.outcome === 'rolled-back') {
      throw new FailedError(
        result.reasonCode ?? 'INSTALL_FAILED',
        `${result.reason}; rolled back, still on ${result.version}\n--- install log (last lines, ${result.logFile}) ---\n${result.logTail ?? ''}`,
        {
          details: { ...result },
        },
      );
    }
    const text =
      result.outcome === 'installed'
        ? `installed ${result.version} (was ${result.previousVersion}), package ${result.packageId}`
        : `package ${result.packageId} is already installed; nothing to do (running ${result.version})`;
    return { data: result, text, exitCode: EXIT.OK };
  } finally {
    ctx.close();
  }
}
