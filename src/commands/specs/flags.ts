/** Flags several commands share, declared once (see define.ts for how a command uses them). */
import { defineFlag } from './define.js';

/** rds's own flags, before or after the command: `rds --json agents list`. */
export const GLOBAL_FLAGS = [
  defineFlag({ flags: '--config <file>', description: 'config file (default: $RDS_CONFIG, else the conf default location)' }),
  defineFlag({ flags: '--json', description: 'print one JSON document on stdout' }),
  defineFlag({ flags: '--quiet', description: 'only errors on stderr' }),
  defineFlag({ flags: '--verbose', description: 'debug logging on stderr' }),
] as const;

/** Which agents a host command addresses: all registered ones unless narrowed. */
export const AGENT_SELECTION = [
  defineFlag({ flags: '--agents <ids>', description: 'only these agents (comma-separated)' }),
  defineFlag({ flags: '--exclude <ids>', description: 'all but these agents (comma-separated)' }),
] as const;

/** Take in replies after sending. */
export const WAIT = defineFlag({ flags: '--wait <duration>', description: 'take in replies until all answered or DURATION passed' });

/** A one-shot pass becomes a loop (systemd service); the example is the usual interval. */
export function every<const E extends string>(example: E) {
  return defineFlag({ flags: '--every <duration>', description: `loop: one pass every DURATION (e.g. ${example})` });
}

/** One of several inbox workers sharing one store and mailbox (docs/deployment.md#workers). */
export const WORKER = defineFlag({
  flags: '--worker',
  description: 'one of several workers sharing the mailbox: no mailbox lock; each mail is still acted on once',
});

/** Bound one mail pass. */
export const MAX = defineFlag({ flags: '--max <n>', description: 'at most N messages a pass' });
