/**
 * `rds doctor`: the config and everything it points at, one check each (ok or FAIL with the
 * fix), and the report a person reads. Read-only, but the state database is opened, which
 * applies pending migrations.
 */
import fs from 'node:fs';
import { type Clock, systemClock } from '../clock.js';
import { readSecret } from '../config/config.js';
import type { AgentConfig, RdsConfig } from '../config/schema.js';
import { showText } from '../text/show.js';
import { type Check, fail, pass } from './check.js';
import { deviceChecks } from './device-checks.js';
import { fileChecks } from './file-checks.js';
import { installWindowChecks } from './install-checks.js';
import { partsChecks } from './parts-checks.js';
import { openState, stateCheck } from './state-checks.js';

const MAIL_TIMEOUT_MS = 10_000;

/** A check that throws is a FAIL line with the error's one-line message, never a crash. */
async function guarded(name: string, fix: string, fn: () => Promise<Check | Check[]>): Promise<Check[]> {
  try {
    const r = await fn();
    return Array.isArray(r) ? r : [r];
  } catch (error) {
    return [fail(name, (error as Error).message, fix)];
  }
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

/** This node's key unlocks; on an agent, the pinned host key is not its own. */
async function keyChecks(config: RdsConfig, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const { readPrivateKeyFile, readPublicKeyFile, fingerprintOf } = await import('../crypto/keys.js');
  let own: string | undefined;
  const checks = await guarded(
    'key',
    'set RDS_KEY_PASSPHRASE or keyPassphraseFile to the passphrase of the key rds init made',
    async () => {
      const key = await readPrivateKeyFile(config.keyFile, readSecret(env.RDS_KEY_PASSPHRASE, config.keyPassphraseFile, 'key passphrase'));
      own = fingerprintOf(key);
      return pass('key', `${config.keyFile} unlocks; fingerprint ${own}`);
    },
  );
  if (config.role !== 'agent') return checks;
  const agent = config as AgentConfig;
  checks.push(
    ...(await guarded('host key', "pin the host's key: the file `rds keys export` wrote on the host", async () => {
      const fp = fingerprintOf(await readPublicKeyFile(agent.hostKeyFile));
      if (fp === own) return fail('host key', `${agent.hostKeyFile} is this agent's own key (${fp})`, "pin the host's key instead");
      return pass('host key', `${agent.hostKeyFile} pinned; fingerprint ${fp} (compare with rds keys show on the host)`);
    })),
  );
  return checks;
}

/** SMTP and IMAP, both asked at once: log in, and the folders rds uses exist. */
async function mailChecks(config: RdsConfig, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const { ca, error: caFailed } = readCa(config);
  const { checkImap, checkSmtp } = await import('./mail-checks.js');
  if (caFailed) return caFailed;
  const [smtp, imap] = await Promise.all([
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
  return [...smtp, ...imap];
}

/** Every check of `rds doctor`, in the order they are printed; the config was loaded already. */
export async function runDoctor(
  config: RdsConfig,
  configFile: string,
  env: NodeJS.ProcessEnv,
  clock: Clock = systemClock,
): Promise<Check[]> {
  const checks: Check[] = [pass('config', `${configFile} (${config.role} ${config.id})`)];
  checks.push(...fileChecks(config, configFile));
  const state = stateCheck(config);
  checks.push(state);
  const opened = state.ok ? await openState(config) : undefined;
  if (opened) checks.push(opened.check);
  try {
    checks.push(...(await keyChecks(config, env)));
    checks.push(...(await mailChecks(config, env)));
    if (config.role === 'agent')
      checks.push(
        ...(await deviceChecks(opened?.db)),
        ...installWindowChecks(config as AgentConfig, opened?.db, clock),
        ...partsChecks(opened?.db, clock),
      );
  } finally {
    opened?.db?.close();
  }
  return checks;
}

/** The report: one line a check (names aligned, outside text neutralised), then the count. */
export function doctorReport(checks: Check[]): { ok: boolean; text: string } {
  const ok = checks.every((c) => c.ok);
  const failed = checks.filter((c) => !c.ok).length;
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map(
    (c) =>
      `${c.ok ? 'ok  ' : 'FAIL'}  ${showText(c.name).padEnd(width)}  ${showText(c.detail)}${c.fix ? ` (fix: ${showText(c.fix)})` : ''}`,
  );
  lines.push(ok ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks failed`);
  return { ok, text: lines.join('\n') };
}
