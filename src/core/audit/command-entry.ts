/**
 * The entry of a command's run (docs/audit.md#what-is-recorded), from its options and its
 * result's data: which agents, the SHA-256 of the package file, flags and arguments (never
 * one whose name says secret), the rollout, package id, target and failed count.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AuditInput } from './entry.js';

type Options = Record<string, unknown> & { args?: unknown[] };
type Data = Record<string, unknown> | undefined;

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

const SECRET = /pass|secret|token|community|auth|priv|password/i;

export async function commandEntry(action: string, name: string, options: Options, status: number, data: Data): Promise<AuditInput> {
  const detail: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(options)) {
    if (SECRET.test(key)) continue; // no secrets in the trail, whatever a future flag is called
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
