/**
 * The commander program, built from the command table (src/commands/specs/index.ts). Each
 * action lazily imports its command module, so `rds --version` and `rds --help` load neither
 * openpgp, imapflow, net-snmp nor SQLite (cron on a small box pays start-up every minute);
 * the agent's cron passes are read without it (src/launch.ts).
 */
import { Command, CommanderError, Option } from 'commander';
import type { CommandSpec, FlagSpec, Leaf } from './commands/specs/define.js';
import { GLOBAL_FLAGS } from './commands/specs/flags.js';
import { COMMANDS, PROGRAM } from './commands/specs/index.js';
import type { GlobalOptions } from './commands/types.js';
import { launch, type State } from './launch.js';
import { ROOT_HELP } from './root-help.js';

export { CommanderError };

function addFlag(cmd: Command, flag: FlagSpec): void {
  const option = new Option(flag.flags, flag.description);
  if (flag.choices) option.choices(flag.choices);
  if (flag.repeatable) option.default([]).argParser((value: string, previous: string[]) => [...previous, value]);
  if (flag.default !== undefined) option.default(flag.default);
  if (flag.mandatory) option.makeOptionMandatory();
  cmd.addOption(option);
}

function addCommand(parent: Command, spec: CommandSpec, load: Leaf['load'], state: State, group?: string): void {
  const cmd = parent.command(spec.name).description(spec.description);
  for (const arg of spec.args ?? []) cmd.argument(arg.name, arg.description);
  for (const flag of spec.flags ?? []) addFlag(cmd, flag);
  if (spec.help) cmd.addHelpText('after', spec.help);
  cmd.action((...args: unknown[]) => {
    const positionals = args.slice(0, -2);
    const options = { ...cmd.opts(), args: positionals };
    launch(state, group ? `${group} ${spec.name}` : spec.name, load, options, cmd.optsWithGlobals() as GlobalOptions);
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
