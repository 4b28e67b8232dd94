/**
 * How a parsed command line starts its command, whichever parser read it: every run goes
 * through the audit hook (commands/audit-hook.ts, docs/audit.md).
 *
 * The agent's cron passes (commands/specs/passes.ts: watch-faults, collect-counters,
 * heartbeat, poll-mail) run every minute or few on a small box, so their command lines are
 * read here without commander or the rest of the command table (issue 13). Only a plain
 * line is read here: the pass's name once, and long flags that rds or the pass declares, as
 * `--flag`, `--flag VALUE` or `--flag=VALUE`, rds's own flags before or after the name, the
 * pass's after it. Anything else (help, a short flag, an unknown flag, a value starting with
 * '-', a second positional, `--`, a flag with choices, a default or a negation) goes to
 * commander (src/program.ts), which accepts or refuses it as always. What the run receives
 * is what commander gives it (test/unit/launch.test.ts compares the two on generated lines).
 */
import type { FlagSpec, Leaf } from './commands/specs/define.js';
import { GLOBAL_FLAGS } from './commands/specs/flags.js';
import { AGENT_PASSES } from './commands/specs/passes.js';
import type { CommandResult, GlobalOptions } from './commands/types.js';
import type { Clock } from './core/clock.js';

export type State = { result?: Promise<CommandResult>; clock?: Clock };
export type Options = Record<string, unknown> & { args: unknown[] };

/** Start the command `name` (the table's full name, `agents add`) with its parsed options. */
export function launch(state: State, name: string, load: Leaf['load'], options: Options, globals: GlobalOptions): void {
  const withClock = { ...globals, ...(state.clock ? { clock: state.clock } : {}) };
  state.result = Promise.all([load(), import('./commands/audit-hook.js')]).then(([run, audit]) =>
    audit.runAudited(name, options, withClock, () => run(options, withClock)),
  );
}

/** A flag this parser reads: its commander key and whether it takes a value. */
interface Plain {
  key: string;
  takesValue: boolean;
}

/** `--name` or `--name <value>` with nothing else declared; undefined for any other flag. */
function plainFlag(flag: FlagSpec): [string, Plain] | undefined {
  const m = /^--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)( <[\w-]+>)?$/.exec(flag.flags);
  if (!m?.[1] || m[1].startsWith('no-')) return undefined;
  if (flag.choices || flag.mandatory || flag.repeatable || flag.default !== undefined) return undefined;
  return [m[1], { key: m[1].replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()), takesValue: m[2] !== undefined }];
}

/** The plain flags of a list, or undefined when one of them is not plain. */
function plainFlags(flags: readonly FlagSpec[]): Map<string, Plain> | undefined {
  const plain = flags.map(plainFlag);
  return plain.every((p) => p !== undefined) ? new Map(plain as [string, Plain][]) : undefined;
}

/**
 * One flag at `argv[i]` read into `into`; how many tokens it took (1 or 2), or 0 when it is
 * not one of `known` in a plain form.
 */
function readFlag(argv: readonly string[], i: number, known: Map<string, Plain>, into: Record<string, unknown>): number {
  const token = argv[i] as string;
  const eq = token.indexOf('=');
  const flag = known.get(token.slice(2, eq < 0 ? undefined : eq));
  if (!token.startsWith('--') || !flag) return 0;
  if (!flag.takesValue) {
    if (eq >= 0) return 0;
    into[flag.key] = true;
    return 1;
  }
  if (eq >= 0) {
    into[flag.key] = token.slice(eq + 1);
    return 1;
  }
  const value = argv[i + 1];
  if (value === undefined || value.startsWith('-')) return 0;
  into[flag.key] = value;
  return 2;
}

export interface FastLine {
  name: string;
  leaf: Leaf;
  options: Options;
  globals: GlobalOptions;
}

/** `argv` (node, script, …) read as one of the agent's passes, or undefined: commander reads it. */
export function parsePassLine(argv: readonly string[]): FastLine | undefined {
  const globalFlags = plainFlags(GLOBAL_FLAGS);
  if (!globalFlags) return undefined;
  const globals: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  let leaf: Leaf | undefined;
  let passFlags: Map<string, Plain> | undefined;
  for (let i = 2; i < argv.length; ) {
    const token = argv[i] as string;
    if (!leaf && !token.startsWith('-')) {
      leaf = AGENT_PASSES.find((p) => p.spec.name === token && !p.spec.args?.length);
      passFlags = leaf && plainFlags(leaf.spec.flags ?? []);
      if (!passFlags) return undefined;
      i += 1;
      continue;
    }
    const taken = readFlag(argv, i, globalFlags, globals) || (passFlags ? readFlag(argv, i, passFlags, options) : 0);
    if (taken === 0) return undefined;
    i += taken;
  }
  if (!leaf) return undefined;
  return { name: leaf.spec.name, leaf, options: { ...options, args: [] }, globals: { ...globals, ...options } as GlobalOptions };
}
