/**
 * The entry of the binary: the command line read (the agent's cron passes by src/launch.ts,
 * anything else by commander: src/program.ts, loaded only then), the command run, its result
 * printed, errors turned into one line and an exit code. `rds --version` and `rds --help`
 * load neither openpgp, imapflow, net-snmp nor SQLite (cron on a small box pays start-up
 * every minute), and an agent's cron pass does not load commander nor touch process.stdout
 * (commands/output.ts).
 */

import { printResult, quietOnClosedStdout, writeStdout } from './commands/output.js';
import type { Clock } from './core/clock.js';
import { EXIT, isRdsError } from './core/errors.js';
import { showLines } from './core/text/show.js';
import { launch, parsePassLine, type State } from './launch.js';

/**
 * `inject.clock`: for test entries only (test/support/rds-clock.mjs runs the binary on a
 * clock skipped ahead); bin/rds.js passes nothing and no flag or variable sets it.
 */
export async function main(argv: string[], inject: { clock?: Clock } = {}): Promise<number> {
  const state: State = { ...(inject.clock ? { clock: inject.clock } : {}) };
  const json = argv.includes('--json');
  // `rds -v` alone is the version, as users expect (`-v` is not a flag of any command)
  if (argv.length === 3 && argv[2] === '-v') argv = [...argv.slice(0, 2), '--version'];
  let commander: typeof import('./program.js') | undefined;
  try {
    const pass = parsePassLine(argv);
    if (pass) launch(state, pass.name, pass.leaf.load, pass.options, pass.globals);
    else {
      quietOnClosedStdout(); // commander writes help and version through process.stdout
      commander = await import('./program.js');
      await commander.buildProgram(state).parseAsync(argv);
    }
    if (!state.result) return EXIT.OK;
    const result = await state.result;
    printResult(result, json);
    return result.exitCode ?? EXIT.OK;
  } catch (error) {
    return reportError(error, json, commander?.CommanderError);
  }
}

function reportError(error: unknown, json: boolean, CommanderError?: typeof import('commander').CommanderError): number {
  if (CommanderError && error instanceof CommanderError) {
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
  writeStdout(`${JSON.stringify({ error: { code, message } })}\n`);
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
