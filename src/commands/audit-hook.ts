/**
 * The one central audit hook (docs/audit.md): src/cli.ts runs every command through
 * `runAudited`. After the run, whatever its exit code, a command named in
 * core/audit/actions.ts gets one entry (who, what, on which agents, which package, exit
 * code), and when the log grew during the command (its own entry, or outcomes core appended:
 * update results, quarantined mail, installs) a checkpoint is signed with the node key.
 * The hook never changes the command's result: a failure to record is one line on stderr.
 */
import { AUDITED_COMMANDS, NOT_CHECKPOINTED } from '../core/audit/actions.js';
import { allClosedSealed, resetSealNotes } from '../core/audit/signer.js';
import { isRdsError } from '../core/errors.js';
import { showText } from '../core/text/show.js';
import type { CommandResult, GlobalOptions } from './types.js';

type Options = Record<string, unknown> & { args?: unknown[] };
type Data = Record<string, unknown> | undefined;

export async function runAudited(
  name: string,
  options: Options,
  globals: GlobalOptions,
  run: () => Promise<CommandResult>,
): Promise<CommandResult> {
  if (NOT_CHECKPOINTED.has(name)) return run();
  resetSealNotes();
  let result: CommandResult;
  try {
    result = await run();
  } catch (error) {
    await record(name, options, globals, isRdsError(error) ? error.exitCode : 1, undefined);
    throw error;
  }
  await record(name, options, globals, result.exitCode ?? 0, result.data as Data);
  return result;
}

async function record(name: string, options: Options, globals: GlobalOptions, status: number, data: Data): Promise<void> {
  const action = AUDITED_COMMANDS[name];
  // nothing to append, and the command's own store closed with every entry signed: the
  // store is not opened again (an agent's cron pass, issue 13)
  if (!action && allClosedSealed()) return;
  const { openAuditStore } = await import('./audit-store.js');
  // no config, an untrusted one, no store yet: the command said what was wrong (or needed none)
  const store = await openAuditStore(globals).catch(() => undefined);
  if (!store) return;
  try {
    const now = globals.clock?.now() ?? new Date();
    if (action) {
      const { commandEntry } = await import('../core/audit/command-entry.js');
      store.append(await commandEntry(action, name, options, status, data), now);
    }
    await store.checkpoint(now);
  } catch (error) {
    // a command that failed has said why (a wrong passphrase, say); the next command signs
    if (status === 0) process.stderr.write(`rds: audit: '${name}' not recorded or not signed: ${showText((error as Error).message)}\n`);
  } finally {
    store.close();
  }
}
