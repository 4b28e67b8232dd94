import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseInstallWindow } from '../install/window.js';
import { AGENT_REQUIRED, COMMON_REQUIRED, CONFIG_PROPERTIES, type RdsConfig } from './schema.js';

export const CONFIG_FILE_MODE = 0o600;

type ConfInstance = InstanceType<typeof import('conf').default<Record<string, unknown>>>;
// one validated instance per file and process: conf compiles the JSON schema (ajv) per
// instance, which a long-running loop or the in-process demo would otherwise pay each pass
const loaded = new Map<string, ConfInstance>();

async function openConf(file: string, options: { create: boolean }): Promise<ConfInstance> {
  const { default: Conf } = await import('conf');
  const abs = path.resolve(file);
  const cached = options.create ? undefined : loaded.get(abs);
  if (cached && fs.existsSync(abs)) return cached;
  if (!options.create && !fs.existsSync(abs)) {
    throw new UsageError('CONFIG_NOT_FOUND', `config ${abs} does not exist: set RDS_CONFIG or pass --config (rds init writes one)`);
  }
  try {
    const conf = new Conf<Record<string, unknown>>({
      cwd: path.dirname(abs),
      configName: path.basename(abs).replace(/\.json$/, ''),
      projectName: 'rds',
      schema: CONFIG_PROPERTIES as never,
      rootSchema: { ...(options.create ? {} : { required: COMMON_REQUIRED }), additionalProperties: false } as never,
      clearInvalidConfig: false,
      configFileMode: CONFIG_FILE_MODE,
      watch: false,
      accessPropertiesByDotNotation: false,
    });
    if (!options.create) loaded.set(abs, conf);
    return conf;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EISDIR' || code === 'ENOENT') {
      throw new UsageError('CONFIG_UNREADABLE', `config ${abs} cannot be read (${code})`, { cause: error });
    }
    const message = (error as Error).message.replace(/^Config schema violation: /, '');
    throw new UsageError('CONFIG_INVALID', `config ${abs}: ${message}`, { cause: error });
  }
}

/**
 * Where the config is: --config, else $RDS_CONFIG, else conf's default location
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
  const conf = await openConf(file, { create: false });
  const value = { ...conf.store } as Record<string, unknown>;
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
  const conf = await openConf(file, { create: true });
  try {
    conf.store = config;
  } catch (error) {
    throw new UsageError(
      'CONFIG_INVALID',
      `config ${path.resolve(file)}: ${(error as Error).message.replace(/^Config schema violation: /, '')}`,
      { cause: error },
    );
  }
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

export function requireRole<R extends RdsConfig['role']>(config: RdsConfig, role: R, command: string): Extract<RdsConfig, { role: R }> {
  if (config.role !== role) {
    throw new UsageError('WRONG_ROLE', `'rds ${command}' is a ${role} command, but this config is for the ${config.role} '${config.id}'`);
  }
  return config as Extract<RdsConfig, { role: R }>;
}
