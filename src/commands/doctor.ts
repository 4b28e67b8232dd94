import { loadConfig, resolveConfigPath } from '../core/config/config.js';
import { doctorReport, runDoctor } from '../core/doctor/doctor.js';
import { EXIT } from '../core/errors.js';
import type { CommandResult, GlobalOptions } from './types.js';

/**
 * `rds doctor`: the config and everything it points at, one line each with ok or FAIL and
 * the fix (src/core/doctor/). Read-only (the state database is opened, which applies pending
 * migrations). Exit 0 only when every check passed, 1 otherwise; 2 when the config itself
 * cannot be read.
 */
export async function run(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const configFile = resolveConfigPath(globals.config, process.env);
  const config = await loadConfig(configFile); // unreadable or invalid: exit 2, one line
  const checks = await runDoctor(config, configFile, process.env, globals.clock);
  const { ok, text } = doctorReport(checks);
  return { exitCode: ok ? EXIT.OK : EXIT.FAILED, data: { ok, checks }, text };
}
