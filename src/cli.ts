/**
 * The one place that builds the commander program, from the command table
 * (src/commands/specs/index.ts). Each action lazily imports its command module, so
 * `rds --version` and `rds --help` load neither openpgp, imapflow, net-snmp nor SQLite
 * (cron on a small box pays start-up every minute).
 */
import { Command, CommanderError, Option } from 'commander';
import type { CommandSpec, FlagSpec } from './commands/specs/define.js';
import { GLOBAL_FLAGS } from './commands/specs/flags.js';
import { COMMANDS, PROGRAM } from './commands/specs/index.js';
import type { CommandResult, GlobalOptions } from './commands/types.js';
import type { Clock } from './core/clock.js';
import { EXIT, isRdsError } from './core/errors.js';
import { showLines } from './core/text/show.js';
import { ROOT_HELP } from './root-help.js';

type Loaded = (options: Record<string, unknown>, globals: GlobalOptions) => Promise<CommandResult>;
type State = { result?: Promise<CommandResult>; clock?: Clock };

function addFlag(cmd: Command, flag: FlagSpec): void {
  const option = new Option(flag.flags, flag.description);
  if (flag.choices) option.choices(flag.choices);
  if (flag.repeatable) option.default([]).argParser((value: string, previous: string[]) => [...previous, value]);
  if (flag.default !== undefined) option.default(flag.default);
  if (flag.mandatory) option.makeOptionMandatory();
  cmd.addOption(option);
}

function addCommand(parent: Command, spec: CommandSpec, load: () => Promise<Loaded>, state: State, group?: string): void {
  const cmd = parent.command(spec.name).description(spec.description);
  for (const arg of spec.args ?? []) cmd.argument(arg.name, arg.description);
  for (const flag of spec.flags ?? []) addFlag(cmd, flag);
  if (spec.help) cmd.addHelpText('after', spec.help);
  cmd.action((...args: unknown[]) => {
    const positionals = args.slice(0, -2);
    const globals = { ...(cmd.optsWithGlobals() as GlobalOptions), ...(state.clock ? { clock: state.clock } : {}) };
    const options = { ...cmd.opts(), args: positionals };
    // every run goes through the audit hook (commands/audit-hook.ts, docs/audit.md)
    const name = group ? `${group} ${spec.name}` : spec.name;
    state.result = Promise.all([load(), import('./commands/audit-hook.js')]).then(([run, audit]) =>
      audit.runAudited(name, options, globals, () => run(options, globals)),
    );
  });
}

export function buildProgram(state: State): Command {
  const program = new Command(PROGRAM.name).description(PROGRAM.description).version(PROGRAM.version, '-V, --version');
  for (const flag of GLOBAL_FLAGS) addFlag(program, flag);
  program.showHelpAfterError('(run with --help for usage)').addHelpText('after', ROOT_HELP).exitOverride();
  for (const entry of COMMANDS) {
    if (entry.kind === 'command') {
      addCommand(program, entry.spec, entry.load, state);
      continue;
    }
    const group = program.command(entry.name).description(entry.description);
    for (const sub of entry.commands) addCommand(group, sub.spec, sub.load, state, entry.name);
  }
  return program;
}

/**
 * `inject.clock`: for test entries only (test/support/rds-clock.mjs runs the binary on a
 * clock skipped ahead); bin/rds.js passes nothing and no flag or variable sets it.
 */
export async function main(argv: string[], inject: { clock?: Clock } = {}): Promise<number> {
  const state: State = { ...(inject.clock ? { clock: inject.clock } : {}) };
  const program = buildProgram(state);
  const json = argv.includes('--json');
  // `rds -v` alone is the version, as users expect (`-v` is not a flag of any command)
  if (argv.length === 3 && argv[2] === '-v') argv = [...argv.slice(0, 2), '--version'];
  try {
    await program.parseAsync(argv);
    if (!state.result) return EXIT.OK;
    const result = await state.result;
    const { printResult } = await import('./commands/output.js');
    printResult(result, json);
    return result.exitCode ?? EXIT.OK;
  } catch (error) {
    return reportError(error, json);
  }
}

function reportError(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return EXIT.OK;
    // commander printed the line on stderr; --json gets the same as data
    if (json) writeJsonError(commanderCode(error.code), error.message.replace(/^error: /, ''));
    return EXIT.USAGE;
  }
  const known = isRdsError(error) ? error : fromSystemError(error);
  if (known) {
    if (json) writeJsonError(known.code, known.message);
    process.stderr.write(`rds: ${showLines(known.message)}\n`);
    return known.exitCode;
  }
  process.stderr.write(`rds: this is a bug, please report it:\n${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.FAILED;
}

function writeJsonError(code: string, message: string): void {
  process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
}

/** commander.unknownOption → UNKNOWN_OPTION */
function commanderCode(code: string): string {
  return code
    .replace(/^commander\./, '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase();
}

/**
 * A file the operator named or a folder rds was pointed at is missing, a folder, or not
 * writable by this user: an ordinary mistake (exit 2, one line naming the path), never
 * "this is a bug". Covers SQLite's view of an unwritable state dir too.
 */
function fromSystemError(error: unknown): { code: string; message: string; exitCode: number } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; path?: unknown; syscall?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const WHY: Record<string, string> = {
    ENOENT: 'does not exist',
    EACCES: 'is not accessible to this user (check its owner and mode)',
    EPERM: 'is not accessible to this user (check its owner and mode)',
    EISDIR: 'is a folder, not a file',
    ENOTDIR: 'has a part that is not a folder',
    EROFS: 'is on a read-only file system',
    EEXIST: 'exists already',
  };
  if (typeof e.path === 'string' && WHY[code]) {
    return { code, message: `${e.path} ${WHY[code]}`, exitCode: EXIT.USAGE };
  }
  if (e.name === 'SqliteError' && /^SQLITE_(CANTOPEN|READONLY|PERM|AUTH)/.test(code)) {
    return {
      code,
      message: `the state database cannot be opened for writing (${String(e.message)}): the state dir must be writable by this user (see stateDir in the config)`,
      exitCode: EXIT.USAGE,
    };
  }
  return undefined;
}
