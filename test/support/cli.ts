// Helpers for the `cli` project: run the real compiled binary (`node bin/rds.js`) in temp
// dirs, set up a host and agents through the CLI, and re-wrap a host package for one agent
// through the core API (what push-all will do).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPrivateKeyFile, readPublicKeyFile } from '../../src/core/crypto/keys.js';
import { packageForAgent, readPackageFile, recoverSessionKey, splitPackage } from '../../src/core/package/wrap.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'rds.js');
/** Test-only entry for the crash tests: bin/rds.js plus a kill -9 right after the journal step RDS_FAULT_CRASH_AFTER names. */
export const CRASH_BIN = path.join(ROOT, 'test', 'support', 'rds-crash-after.mjs');
/** Test-only entry on a clock RDS_TEST_CLOCK_OFFSET_MS ahead of the real one (the rollout tests' timeouts and rate windows). */
export const CLOCK_BIN = path.join(ROOT, 'test', 'support', 'rds-clock.mjs');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

export interface RunOptions {
  cwd: string;
  /** added to a clean environment (no RDS_* of the caller leaks in) */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Newest mtime under dir (files only). */
function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

/**
 * Build dist/ when it is missing or older than src/. tsc's exit status is ignored (other
 * folders may have type errors while being worked on; tsc still emits): what counts is
 * that dist/cli.js exists afterwards.
 */
export function ensureBuilt(): void {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const stale = !fs.existsSync(cli) || newestMtime(path.join(ROOT, 'src')) > newestMtime(path.join(ROOT, 'dist'));
  if (!stale) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (!fs.existsSync(cli)) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
}

export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RDS_') && !k.startsWith('VITEST') && v !== undefined) env[k] = v;
  env.NO_COLOR = '1';
  // tables print times in the operator's zone (TZ): UTC unless a test names another
  env.TZ = 'UTC';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface Running {
  child: ChildProcess;
  done: Promise<RunResult>;
}

/** Start `rds ARGS` without waiting (for tests that kill it from outside). */
export function startRds(args: string[], options: RunOptions): Running {
  const entry = options.env?.RDS_FAULT_CRASH_AFTER ? CRASH_BIN : options.env?.RDS_TEST_CLOCK_OFFSET_MS ? CLOCK_BIN : BIN;
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const done = new Promise<RunResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rds ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, pid: child.pid ?? 0 });
    });
  });
  return { child, done };
}

/** Run `node bin/rds.js ARGS` and collect {code, signal, stdout, stderr}. */
export function rds(args: string[], options: RunOptions): Promise<RunResult> {
  return startRds(args, options).done;
}

/** Like rds(), but fail with the whole output unless the exit code is `expected`. */
export async function rdsExpect(expected: number, args: string[], options: RunOptions): Promise<RunResult> {
  const r = await rds(args, options);
  if (r.code !== expected) {
    throw new Error(
      `rds ${args.join(' ')}: exit ${r.code ?? r.signal}, expected ${expected}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
  return r;
}

export function tempDir(prefix = 'rds-cli-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface HostNode {
  dir: string;
  config: string;
  keyFile: string;
  publicKeyFile: string;
}

export interface AgentNode {
  id: string;
  dir: string;
  config: string;
  stateDir: string;
  installRoot: string;
  publicKeyFile: string;
}

/** `rds init --role host` into ROOT/host, then `rds keys export` into ROOT/host.asc. */
export async function initHost(root: string, id = 'HOST'): Promise<HostNode> {
  const dir = path.join(root, 'host');
  const mail = `maildir://${path.join(root, 'mail')}`;
  await rdsExpect(
    0,
    [
      'init',
      '--role',
      'host',
      '--id',
      id,
      '--address',
      'host@example.com',
      '--smtp',
      mail,
      '--imap',
      mail,
      '--dir',
      dir,
      ...(await storeArgs(root)),
    ],
    {
      cwd: root,
    },
  );
  const config = path.join(dir, 'config.json');
  const exported = await rdsExpect(0, ['--config', config, 'keys', 'export'], { cwd: root });
  const publicKeyFile = path.join(root, 'host.asc');
  fs.writeFileSync(publicKeyFile, exported.stdout);
  return { dir, config, keyFile: path.join(dir, 'keys', 'private.asc'), publicKeyFile };
}

/**
 * `rds init --role agent` into ROOT/<id> pinning the host key, `rds keys export`, and
 * (unless register is false) `rds agents add` at the host.
 */
export async function initAgent(
  root: string,
  host: HostNode,
  options: { id: string; softwareVersion?: string; romVersion?: string; register?: boolean; initArgs?: string[] },
): Promise<AgentNode> {
  const dir = path.join(root, options.id);
  const mail = `maildir://${path.join(root, 'mail')}`;
  const address = `${options.id.toLowerCase()}@example.com`;
  await rdsExpect(
    0,
    [
      'init',
      '--role',
      'agent',
      '--id',
      options.id,
      '--address',
      address,
      '--host-address',
      'host@example.com',
      '--host-key',
      host.publicKeyFile,
      '--smtp',
      mail,
      '--imap',
      mail,
      '--software-version',
      options.softwareVersion ?? '1.0.00-1',
      ...(options.romVersion ? ['--rom-version', options.romVersion] : []),
      ...(options.initArgs ?? []),
      '--dir',
      dir,
    ],
    { cwd: root },
  );
  const config = path.join(dir, 'config.json');
  const exported = await rdsExpect(0, ['--config', config, 'keys', 'export'], { cwd: root });
  const publicKeyFile = path.join(root, `${options.id}.asc`);
  fs.writeFileSync(publicKeyFile, exported.stdout);
  if (options.register !== false) {
    await rdsExpect(0, ['--config', host.config, 'agents', 'add', '--id', options.id, '--address', address, '--key', publicKeyFile], {
      cwd: root,
    });
  }
  return { id: options.id, dir, config, stateDir: path.join(dir, 'state'), installRoot: path.join(dir, 'install'), publicKeyFile };
}

/**
 * What push-all does for one agent: recover the session key with the host key and put a
 * session-key packet for the agent in front of the shared encrypted data.
 */
export async function wrapForAgent(host: HostNode, packageFile: string, agentPublicKeyFile: string, out?: string): Promise<string> {
  const split = splitPackage(readPackageFile(packageFile));
  const sessionKey = await recoverSessionKey(split.prefix, await readPrivateKeyFile(host.keyFile));
  const target = out ?? packageFile.replace(/\.rdsu$/, `.${path.basename(agentPublicKeyFile, '.asc')}.rdsu`);
  fs.writeFileSync(target, await packageForAgent(split, sessionKey, await readPublicKeyFile(agentPublicKeyFile)));
  return target;
}

/** An install script; `body` runs after `set -e`. */
export function writeScript(file: string, body: string): string {
  fs.writeFileSync(file, `#!/bin/sh\nset -e\n${body}\n`, { mode: 0o755 });
  return file;
}

/** The release folder name `current` points at. */
export function currentRelease(agent: AgentNode): string {
  return path.basename(fs.readlinkSync(path.join(agent.installRoot, 'current')));
}

/** The Software Version a release folder holds (`releases/<version>[_<package id>]`). */
export function releaseVersion(name: string): string {
  return name.replace(/_[0-9a-f]{8}$/, '');
}

export function stageLeftovers(agent: AgentNode): string[] {
  const stage = path.join(agent.stateDir, 'stage');
  return fs.existsSync(stage) ? fs.readdirSync(stage) : [];
}

export function linesOf(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** Pids of live (not zombie) processes in process group `pgid`, from /proc. */
export function liveGroupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[2]) === pgid) pids.push(Number(name));
  }
  return pids;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, ms = 10_000, stepMs = 25): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function modeOf(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** On the `cli-pg` run (RDS_TEST_STORE=postgres): a fresh PostgreSQL database for this host. */
export async function storeArgs(root: string): Promise<string[]> {
  if (process.env.RDS_TEST_STORE !== 'postgres') return [];
  const { freshStore } = await import('./pg.js');
  const store = await freshStore(root);
  return ['--store', store.url, '--store-password-file', store.passwordFile];
}
