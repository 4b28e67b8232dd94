/**
 * The one central audit hook (docs/audit.md): src/cli.ts runs every command through
 * `runAudited`. After the run, whatever its exit code, a command named in
 * core/audit/actions.ts gets one entry (who, what, on which agents, which package, exit
 * code), and when the log grew during the command (its own entry, or outcomes core appended:
 * update results, quarantined mail, installs) a checkpoint is signed with the node key.
 * The hook never changes the command's result: a failure to record is one line on stderr.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AUDITED_COMMANDS, NOT_CHECKPOINTED } from '../core/audit/actions.js';
import type { AuditInput } from '../core/audit/entry.js';
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
  const { openAuditStore } = await import('./audit-store.js');
  // no config, an untrusted one, no store yet: the command said what was wrong (or needed none)
  const store = await openAuditStore(globals).catch(() => undefined);
  if (!store) return;
  try {
    const now = globals.clock?.now() ?? new Date();
    if (action) store.append(await entryOf(action, name, options, status, data), now);
    await store.checkpoint(now);
  } catch (error) {
    // a command that failed has said why (a wrong passphrase, say); the next command signs
    if (status === 0) process.stderr.write(`rds: audit: '${name}' not recorded or not signed: ${showText((error as Error).message)}\n`);
  } finally {
    store.close();
  }
}

const ids = (list: unknown): string[] =>
  Array.isArray(list)
    ? list.map((a) => (typeof a === 'string' ? a : String((a as { agentId?: unknown }).agentId ?? ''))).filter(Boolean)
    : [];

/** Which agents: what the command reports it acted on, else what it was asked for. */
function agentsOf(name: string, options: Options, data: Data): string[] {
  const fromData = [
    ...(typeof data?.removed === 'string' ? [data.removed] : []),
    ...ids(data?.added),
    ...ids(data?.agents),
    ...ids(data?.requested),
  ];
  if (fromData.length > 0) return fromData;
  if (name === 'agents add' && typeof options.id === 'string') return [options.id];
  if (name === 'agents remove') return ids(options.args);
  return typeof options.agents === 'string' ? options.agents.split(',').map((a) => a.trim()) : [];
}

async function packageHash(name: string, options: Options, data: Data): Promise<string | undefined> {
  const file =
    typeof data?.file === 'string'
      ? data.file
      : name !== 'agents import'
        ? options.args?.find((a) => typeof a === 'string' && a.endsWith('.rdsu'))
        : undefined;
  if (typeof file !== 'string' || !fs.existsSync(file) || !fs.statSync(file).isFile()) return undefined;
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(path.resolve(file))) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function entryOf(action: string, name: string, options: Options, status: number, data: Data): Promise<AuditInput> {
  const detail: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'args') {
      for (const [i, v] of (value as unknown[]).entries()) if (typeof v === 'string') detail[`arg${i + 1}`] = v;
    } else if (typeof value === 'string' || typeof value === 'boolean') detail[key] = String(value);
    else if (Array.isArray(value) && value.length > 0) detail[key] = value.join(' ');
  }
  for (const key of ['rolloutId', 'packageId', 'target', 'softwareVersion', 'failed']) {
    const value = data?.[key];
    if (typeof value === 'string' || typeof value === 'number') detail[key] = value;
  }
  const pkg = await packageHash(name, options, data);
  return { action, agents: agentsOf(name, options, data), ...(pkg ? { package: pkg } : {}), status, detail };
}
