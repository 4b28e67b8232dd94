import fs from 'node:fs';
import { systemClock } from '../core/clock.js';
import { loadConfig, readSecret, resolveConfigPath } from '../core/config/config.js';
import type { AgentConfig, RdsConfig } from '../core/config/schema.js';
import { type Check, fail, pass } from '../core/doctor/check.js';
import { fileChecks } from '../core/doctor/file-checks.js';
import { EXIT } from '../core/errors.js';
import type { Db } from '../core/store/db.js';
import { showText } from '../core/text/show.js';
import type { CommandResult, GlobalOptions } from './types.js';

const MAIL_TIMEOUT_MS = 10_000;
const DEVICE_TIMEOUT_MS = 2_000;

/** A check that throws is a FAIL line with the error's one-line message, never a crash. */
async function guarded(name: string, fix: string, fn: () => Promise<Check | Check[]>): Promise<Check[]> {
  try {
    const r = await fn();
    return Array.isArray(r) ? r : [r];
  } catch (error) {
    return [fail(name, (error as Error).message, fix)];
  }
}

function stateCheck(config: RdsConfig): Check {
  const probe = `${config.stateDir}/.rds-doctor-${process.pid}`;
  try {
    fs.writeFileSync(probe, '', { mode: 0o600, flag: 'wx' });
    fs.rmSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(
      'state dir',
      `${config.stateDir} is not writable by this user (${code})`,
      code === 'ENOENT' ? `mkdir -m 700 ${config.stateDir} (rds init makes it)` : `chown this user ${config.stateDir}; chmod 700 it`,
    );
  }
  return pass('state dir', `${config.stateDir} is writable`);
}

/** The private CA of the config, or a FAIL line for both mail checks when it cannot be read. */
function readCa(config: RdsConfig): { ca?: Buffer; error?: Check[] } {
  if (!config.tlsCa) return {};
  try {
    return { ca: fs.readFileSync(config.tlsCa) };
  } catch (error) {
    const detail = `TLS CA ${config.tlsCa} cannot be read (${(error as NodeJS.ErrnoException).code})`;
    const fix = 'fix tlsCa in the config, or restore the CA file';
    return { error: [fail('smtp', detail, fix), fail('imap', detail, fix)] };
  }
}

async function openState(config: RdsConfig): Promise<{ check: Check; db?: Db }> {
  try {
    const { openDb } = await import('../core/store/db.js');
    const db = openDb(config.stateDir);
    return { check: pass('state database', `${config.stateDir}/state.db opens`), db };
  } catch (error) {
    return {
      check: fail(
        'state database',
        `${config.stateDir}/state.db: ${(error as Error).message}`,
        'check its owner and mode; restore it from the backup',
      ),
    };
  }
}

async function deviceChecks(db: Db | undefined): Promise<Check[]> {
  if (!db) return [fail('devices', 'not checked: the state database did not open', 'fix the state database first')];
  const { listDevices, createDriverRegistry } = await import('../core/devices/index.js');
  const devices = listDevices(db);
  if (devices.length === 0) return [pass('devices', 'none configured yet (rds devices add)')];
  const drivers = createDriverRegistry({ snmp: { timeoutMs: DEVICE_TIMEOUT_MS, retries: 0 } });
  return Promise.all(
    devices.map(async (device): Promise<Check> => {
      const name = `device ${device.id}`;
      const where =
        device.driver === 'snmp'
          ? `${device.config.address}:${device.config.port ?? 161}`
          : device.driver === 'ipp'
            ? device.config.url
            : `simulated ${device.config.file}`;
      try {
        const driver = drivers[device.driver];
        if (!driver) throw new Error(`no driver '${device.driver}' in this rds`);
        // a short look: at most DEVICE_TIMEOUT_MS per request, no retries, whatever the device's own setting
        const quick: typeof device =
          device.driver === 'snmp'
            ? {
                ...device,
                config: {
                  ...device.config,
                  timeoutMs: Math.min(device.config.timeoutMs ?? DEVICE_TIMEOUT_MS, DEVICE_TIMEOUT_MS),
                  retries: 0,
                },
              }
            : device;
        const identity = await driver.identify(quick);
        return pass(
          name,
          `${where} answers${identity.model ? `: ${identity.model}` : identity.sysDescr ? `: ${identity.sysDescr.slice(0, 60)}` : ''}`,
        );
      } catch (error) {
        return fail(
          name,
          `${where}: ${(error as Error).message}`,
          device.driver === 'snmp'
            ? 'check the address, the SNMP version and community or v3 credentials, and that UDP reaches the device (rds devices list)'
            : 'check the simulated fleet file',
        );
      }
    }),
  );
}

/**
 * `rds doctor`: the config and everything it points at, one line each with ok or FAIL and
 * the fix. Read-only (the state database is opened, which applies pending migrations).
 * Exit 0 only when every check passed, 1 otherwise; 2 when the config itself cannot be read.
 */
export async function run(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const env = process.env;
  const configFile = resolveConfigPath(globals.config, env);
  const config = await loadConfig(configFile); // unreadable or invalid: exit 2, one line
  const checks: Check[] = [pass('config', `${configFile} (${config.role} ${config.id})`)];
  checks.push(...fileChecks(config, configFile));
  const state = stateCheck(config);
  checks.push(state);
  const opened = state.ok ? await openState(config) : undefined;
  if (opened) checks.push(opened.check);
  const { readPrivateKeyFile, readPublicKeyFile, fingerprintOf } = await import('../core/crypto/keys.js');
  let own: string | undefined;
  checks.push(
    ...(await guarded('key', 'set RDS_KEY_PASSPHRASE or keyPassphraseFile to the passphrase of the key rds init made', async () => {
      const key = await readPrivateKeyFile(config.keyFile, readSecret(env.RDS_KEY_PASSPHRASE, config.keyPassphraseFile, 'key passphrase'));
      own = fingerprintOf(key);
      return pass('key', `${config.keyFile} unlocks; fingerprint ${own}`);
    })),
  );
  if (config.role === 'agent') {
    const agent = config as AgentConfig;
    checks.push(
      ...(await guarded('host key', "pin the host's key: the file `rds keys export` wrote on the host", async () => {
        const fp = fingerprintOf(await readPublicKeyFile(agent.hostKeyFile));
        if (fp === own) return fail('host key', `${agent.hostKeyFile} is this agent's own key (${fp})`, "pin the host's key instead");
        return pass('host key', `${agent.hostKeyFile} pinned; fingerprint ${fp} (compare with rds keys show on the host)`);
      })),
    );
  }
  const { ca, error: caFailed } = readCa(config);
  const { checkImap, checkSmtp } = await import('../core/doctor/mail-checks.js');
  const [smtp, imap] = caFailed
    ? [caFailed.slice(0, 1), caFailed.slice(1)]
    : await Promise.all([
        guarded('smtp', 'check the SMTP password source', async () => {
          const password = readSecret(env.RDS_SMTP_PASSWORD, config.smtpPasswordFile, 'SMTP password');
          return checkSmtp(config.smtp, {
            timeoutMs: MAIL_TIMEOUT_MS,
            ...(ca ? { ca } : {}),
            ...(password ? { passwordOverride: password } : {}),
          });
        }),
        guarded('imap', 'check the IMAP password source', async () => {
          const password = readSecret(env.RDS_IMAP_PASSWORD, config.imapPasswordFile, 'IMAP password');
          return checkImap(
            config.imap,
            config.address,
            { processed: config.processedFolder, quarantine: config.quarantineFolder },
            { timeoutMs: MAIL_TIMEOUT_MS, ...(ca ? { ca } : {}), ...(password ? { passwordOverride: password } : {}) },
          );
        }),
      ]);
  checks.push(...smtp, ...imap);
  if (config.role === 'agent') {
    const { installWindowChecks } = await import('../core/doctor/install-checks.js');
    checks.push(
      ...(await deviceChecks(opened?.db)),
      ...installWindowChecks(config as AgentConfig, opened?.db, globals.clock ?? systemClock),
    );
  }
  opened?.db?.close();
  const ok = checks.every((c) => c.ok);
  const failed = checks.filter((c) => !c.ok).length;
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map(
    (c) =>
      `${c.ok ? 'ok  ' : 'FAIL'}  ${showText(c.name).padEnd(width)}  ${showText(c.detail)}${c.fix ? ` (fix: ${showText(c.fix)})` : ''}`,
  );
  lines.push(ok ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks failed`);
  return { exitCode: ok ? EXIT.OK : EXIT.FAILED, data: { ok, checks }, text: lines.join('\n') };
}
