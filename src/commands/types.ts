import type { Clock } from '../core/clock.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  /** in-process callers only (the demo's skipped-ahead clock); no command-line flag sets it */
  clock?: Clock;
}

export interface CommandResult {
  /** exit code (docs/commands.md#exit-codes); 0 when absent */
  exitCode?: number;
  /** the JSON document for --json */
  data?: unknown;
  /** what a person reads on stdout */
  text?: string;
}
