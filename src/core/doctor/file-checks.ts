import fs from 'node:fs';
import type { RdsConfig } from '../config/schema.js';
import { trustedPathsOf } from '../config/trusted.js';
import { trustProblem } from '../fs/trust.js';
import { type Check, fail, pass } from './check.js';

/**
 * Owners and modes of what the config names (`rds doctor`), by the same rules every command
 * applies at its start (src/core/fs/trust.ts, the list in src/core/config/trusted.ts): one
 * line per path instead of stopping at the first problem.
 */
export function fileChecks(config: RdsConfig, configFile: string, uid = process.geteuid?.() ?? 0): Check[] {
  const checks: Check[] = [];
  const seen = new Set<string>();
  for (const entry of trustedPathsOf(config, configFile)) {
    const name = `file ${entry.what}`;
    if (!fs.existsSync(entry.path) && !entry.mayBeMissing) {
      checks.push(fail(name, `${entry.path}: ENOENT`, 'create it, or fix the path in the config'));
      continue;
    }
    let problem: string | undefined;
    try {
      problem = trustProblem(entry, uid, seen);
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem) {
      const [detail, fix] = problem.split('; fix: ');
      checks.push(fail(name, detail ?? problem, fix ?? 'see SECURITY.md, "The files and folders rds trusts"'));
    } else {
      const st = fs.statSync(entry.path, { throwIfNoEntry: false });
      checks.push(
        pass(
          name,
          st
            ? `${entry.path} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, uid ${st.uid})`
            : `${entry.path} (created on first use)`,
        ),
      );
    }
  }
  return checks;
}
