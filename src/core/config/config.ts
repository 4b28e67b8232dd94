import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { replaceFileSafely } from '../fs/trust.js';
import { parseInstallWindow } from '../install/window.js';
import { AGENT_REQUIRED, COMMON_REQUIRED, CONFIG_PROPERTIES, type RdsConfig } from './schema.js';
import { type Schema, validate } from './validate.js';

export const CONFIG_FILE_MODE = 0o600;

/** The config file's whole schema: the properties, and (except when creating it) the keys every node needs. */
function configSchema(options: { create: boolean }): Schema {
  return {
    ...(options.create ? {} : { required: COMMON_REQUIRED }),
    additionalProperties: false,
    type: 'object',
    properties: CONFIG_PROPERTIES as Record<string, Schema>,
  };
}

/** JSON text → the config, defaults filled in; a violation of the schema throws conf's line (minus its prefix). */
function parseConfig(text: string, options: { create: boolean }): Record<string, unknown> {
  const value = JSON.parse(text) as unknown;
  const errors = validate(configSchema(options), value);
  if (errors.length > 0) throw new Error(errors.join('; '));
  return value as Record<string, unknown>;
}

function readConfigFile(abs: string): Record<string, unknown> {
  if (!fs.existsSync(abs)) {
    throw new UsageError('CONFIG_NOT_FOUND', `config ${abs} does not exist: set RDS_CONFIG or pass --config (rds init writes one)`);
  }
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EISDIR' || code === 'ENOENT') {
      throw new UsageError('CONFIG_UNREADABLE', `config ${abs} cannot be read (${code})`, { cause: error });
    }
    throw new UsageError('CONFIG_INVALID', `config ${abs}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseConfig(text, { create: false });
  } catch (error) {
    throw new UsageError('CONFIG_INVALID', `config ${abs}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Where the config is: --config, else $RDS_CONFIG, else $XDG_CONFIG_HOME/rds-nodejs/config.json (conf's old default)
 * (docs/commands.md#global-flags). A folder may be given for the file `config.json` inside it.
 */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const given = flag ?? env.RDS_CONFIG;
  if (given) {
    const abs = path.resolve(given);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(abs, { throwIfNoEntry: false });
    } catch (error) {
      // a path no config can be at (a symlink loop, a file used as a folder): exit 2, not a crash
      throw new UsageError('CONFIG_UNREADABLE', `config ${abs} cannot be read (${(error as NodeJS.ErrnoException).code})`, {
        cause: error,
      });
    }
    return stat?.isDirectory() ? path.join(abs, 'config.json') : abs;
  }
  const base = env.XDG_CONFIG_HOME ?? path.join(env.HOME ?? '/root', '.config');
  return path.join(base, 'rds-nodejs', 'config.json');
}

export async function loadConfig(file: string): Promise<RdsConfig> {
  const value = { ...readConfigFile(path.resolve(file)) };
  if (value.role === 'agent') {
    const missing = AGENT_REQUIRED.filter((k) => value[k] === undefined);
    if (missing.length > 0) {
      throw new UsageError('CONFIG_INVALID', `config ${file}: an agent config needs ${missing.map((m) => `'${m}'`).join(', ')}`);
    }
    if (value.installWindow !== undefined) checkInstallWindow(file, value.installWindow as string);
  }
  return Object.freeze(value) as unknown as RdsConfig;
}

function checkInstallWindow(file: string, text: string): void {
  try {
    parseInstallWindow(text);
  } catch (error) {
    throw new UsageError('CONFIG_INVALID', `config ${file}: ${(error as Error).message}`);
  }
}

export async function writeConfig(file: string, config: Record<string, unknown>): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  if (fs.existsSync(file)) {
    throw new UsageError('CONFIG_EXISTS', `config ${path.resolve(file)} already exists; refusing to overwrite it`);
  }
  // defaults are filled into `config` itself, as conf did
  const errors = validate(configSchema({ create: true }), config);
  if (errors.length > 0) throw new UsageError('CONFIG_INVALID', `config ${path.resolve(file)}: ${errors.join('; ')}`);
  replaceFileSafely(path.resolve(file), JSON.stringify(config, undefined, '\t'), CONFIG_FILE_MODE);
  fs.chmodSync(path.resolve(file), CONFIG_FILE_MODE);
  await loadConfig(file);
}

/** Secrets: environment first, then the file named in the config. Never logged. */
export function readSecret(envValue: string | undefined, file: string | undefined, what: string): string | undefined {
  if (envValue) return envValue;
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new UsageError('SECRET_UNREADABLE', `${what} file ${file} cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
}

/** The private CA the config names (`tlsCa`), or a one-line error (exit 2) when it cannot be read. */
export function readTlsCa(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new UsageError(
      'TLS_CA_UNREADABLE',
      `TLS CA ${file} (tlsCa in the config) cannot be read (${(error as NodeJS.ErrnoException).code})`,
    );
  }
}

export function requireRole<R extends RdsConfig['role']>(config: RdsConfig, role: R, command: string): Extract<RdsConfig, { role: R }> {
  if (config.role !== role) {
    throw new UsageError('WRONG_ROLE', `'rds ${command}' is a ${role} command, but this config is for the ${config.role} '${config.id}'`);
  }
  return config as Extract<RdsConfig, { role: R }>;
}
