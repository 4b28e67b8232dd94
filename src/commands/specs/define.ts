/**
 * The command table's vocabulary: a command declares its name, description, positional
 * arguments, flags and help text as plain data; src/cli.ts turns the table into commander
 * commands, and each command's `run` receives options whose type is inferred from the same
 * declarations (`OptionsOf<typeof spec>`), so the flags and the run cannot drift apart.
 *
 * This module and everything under specs/ import nothing heavy: `rds --version` and
 * `rds --help` read the table without loading openpgp, SQLite, mail or SNMP code.
 */
import type { CommandResult, GlobalOptions } from '../types.js';

/** One flag, as commander's `new Option(flags, description)` and its settings. */
export interface FlagSpec {
  /** '--dry-run', '--agents <ids>', '-o, --output <file>', '--no-inbox' */
  readonly flags: string;
  readonly description: string;
  /** the value when the flag is absent (the option is then always set) */
  readonly default?: string | readonly string[];
  /** the only values accepted (commander refuses others with exit 2) */
  readonly choices?: readonly string[];
  /** the command refuses to run without it */
  readonly mandatory?: boolean;
  /** may be given several times; the values are collected in order (default []) */
  readonly repeatable?: boolean;
}

/** One positional argument: '<id>' (required) or '[file]' (optional). */
export interface ArgSpec {
  readonly name: string;
  readonly description: string;
}

/** A command that runs. */
export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  readonly args?: readonly ArgSpec[];
  readonly flags?: readonly FlagSpec[];
  /** printed after the options in `--help` (examples, exit codes, notes) */
  readonly help?: string;
}

/** Declares a command; `const` keeps the flag strings literal so their option types can be inferred. */
export function defineCommand<const S extends CommandSpec>(spec: S): S {
  return spec;
}

/** Declares a flag (or a shared flag group member) outside a command, keeping its literal type. */
export function defineFlag<const F extends FlagSpec>(flag: F): F {
  return flag;
}

// ---- option types inferred from the declarations ----------------------------------------

/** '-o, --output <file>' → 'output'; '--dry-run' → 'dry-run' */
type LongName<S extends string> = S extends `${string}--${infer Rest}` ? (Rest extends `${infer Name} ${string}` ? Name : Rest) : never;
/** 'dry-run' → 'dryRun', 'v3-auth-key' → 'v3AuthKey' (commander's camel case) */
type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;
/** '--no-inbox' sets `inbox` */
type KeyOf<F extends FlagSpec> = LongName<F['flags']> extends `no-${infer Name}` ? Camel<Name> : Camel<LongName<F['flags']>>;
type Choice<F extends FlagSpec> = F extends { readonly choices: readonly (infer C extends string)[] } ? C : string;
type ValueOf<F extends FlagSpec> = F extends { readonly repeatable: true }
  ? string[]
  : F['flags'] extends `${string}<${string}>` | `${string}[${string}]`
    ? Choice<F>
    : boolean;
/** always set: a default, mandatory, repeatable ([]), or a negated boolean (true unless --no-X) */
type AlwaysSet<F extends FlagSpec> = F extends { readonly default: unknown } | { readonly mandatory: true } | { readonly repeatable: true }
  ? true
  : F['flags'] extends `${string}--no-${string}`
    ? true
    : false;

export type FlagOptions<Fs extends readonly FlagSpec[]> = {
  [F in Fs[number] as AlwaysSet<F> extends true ? KeyOf<F> : never]: ValueOf<F>;
} & {
  [F in Fs[number] as AlwaysSet<F> extends true ? never : KeyOf<F>]?: ValueOf<F>;
};

type ArgValue<A> = A extends { readonly name: `<${string}>` } ? string : string | undefined;
/** the positionals in order: `<id>` → string, `[file]` → string | undefined */
export type ArgsOf<As extends readonly ArgSpec[]> = { -readonly [K in keyof As]: ArgValue<As[K]> };

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** What a command's run receives: its flags by camel-case name, and `args`, the positionals. */
export type OptionsOf<S extends CommandSpec> = Simplify<
  (S['flags'] extends readonly FlagSpec[] ? FlagOptions<S['flags']> : unknown) & {
    args: S['args'] extends readonly ArgSpec[] ? ArgsOf<S['args']> : [];
  }
>;

export type Run<S extends CommandSpec> = (options: OptionsOf<S>, globals: GlobalOptions) => Promise<CommandResult>;

// ---- the table ---------------------------------------------------------------------------

/** A command of the table with its lazily loaded run (the type erased once checked). */
export interface Leaf {
  readonly kind: 'command';
  readonly spec: CommandSpec;
  readonly load: () => Promise<(options: Record<string, unknown>, globals: GlobalOptions) => Promise<CommandResult>>;
}

/** A command group (`rds agents …`): a name and its sub-commands, in help order. */
export interface Group {
  readonly kind: 'group';
  readonly name: string;
  readonly description: string;
  readonly commands: readonly Leaf[];
}

export type Entry = Leaf | Group;

/**
 * A table entry: the spec and a loader of the run typed against it (the compiler checks that
 * the run takes exactly the options the spec declares). The one cast from commander's untyped
 * option bag to the inferred type lives here: cli.ts builds the commander command from this
 * same spec, so the bag has exactly those keys.
 */
export function command<S extends CommandSpec>(spec: S, load: () => Promise<Run<S>>): Leaf {
  return {
    kind: 'command',
    spec,
    load: async () => {
      const run = await load();
      return (options, globals) => run(options as OptionsOf<S>, globals);
    },
  };
}

export function group(name: string, description: string, commands: readonly Leaf[]): Group {
  return { kind: 'group', name, description, commands };
}

/** A spec with its run, typed (for in-process callers such as the demo). */
export interface Typed<S extends CommandSpec> {
  readonly spec: S;
  readonly load: () => Promise<Run<S>>;
}

export function typed<S extends CommandSpec>(spec: S, load: () => Promise<Run<S>>): Typed<S> {
  return { spec, load };
}

/** '--max-gap <duration>' → maxGap, '--no-inbox' → inbox (negated), as commander names them. */
function keyOf(flags: string): { key: string; negated: boolean } {
  const long = /--([\w-]+)/.exec(flags)?.[1] ?? '';
  const negated = long.startsWith('no-');
  const name = negated ? long.slice(3) : long;
  return { key: name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), negated };
}

/**
 * The options commander would give the run for a command line with only `given` on it: the
 * declared defaults, [] for a repeatable flag, true for a `--no-X` flag, no positionals.
 */
export function optionsWithDefaults<S extends CommandSpec>(spec: S, given: Partial<OptionsOf<S>>): OptionsOf<S> {
  const options: Record<string, unknown> = { args: [] };
  for (const flag of spec.flags ?? []) {
    const { key, negated } = keyOf(flag.flags);
    if (flag.default !== undefined) options[key] = flag.default;
    else if (flag.repeatable) options[key] = [];
    else if (negated) options[key] = true;
  }
  return { ...options, ...given } as OptionsOf<S>;
}
