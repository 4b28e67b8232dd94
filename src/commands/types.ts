import type { Clock } from '../core/clock.js';
import type { FlagOptions } from './specs/define.js';
import type { GLOBAL_FLAGS } from './specs/flags.js';

/** rds's global flags (specs/flags.ts), and what only in-process callers set. */
export type GlobalOptions = FlagOptions<typeof GLOBAL_FLAGS> & {
  /** in-process callers only (the demo's skipped-ahead clock); no command-line flag sets it */
  clock?: Clock;
};

export interface CommandResult {
  /** exit code (docs/commands.md#exit-codes); 0 when absent */
  exitCode?: number;
  /** the JSON document for --json */
  data?: unknown;
  /** what a person reads on stdout */
  text?: string;
}
