import { sealPending } from '../core/audit/signer.js';
import { parseDuration } from '../core/duration.js';
import { EXIT, isRdsError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { writeText } from './output.js';
import type { CommandResult } from './types.js';

/**
 * `--every D` turns a one-shot pass into a loop for a systemd service: a pass that fails
 * for a transient reason is logged and retried at the next tick; SIGTERM/SIGINT end the
 * loop after the pass under way.
 */
export async function runEvery(every: string | undefined, logger: Logger, pass: () => Promise<CommandResult>): Promise<CommandResult> {
  if (!every) return pass();
  const interval = parseDuration(every, '--every');
  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  let last: CommandResult = { exitCode: EXIT.OK };
  try {
    while (!stopping) {
      const started = Date.now();
      try {
        last = await pass();
        await sealPending(); // docs/audit.md#checkpoints
        if (last.text) writeText(last.text);
      } catch (error) {
        if (!isRdsError(error) || error.exitCode === EXIT.USAGE) throw error;
        logger.warn('pass failed; will retry', { error: error.message, code: error.code });
      }
      const wait = Math.max(0, interval - (Date.now() - started));
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, wait).unref();
      });
    }
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
  return { exitCode: EXIT.OK };
}
