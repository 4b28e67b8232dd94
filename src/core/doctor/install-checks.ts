import type { Clock } from '../clock.js';
import type { AgentConfig } from '../config/schema.js';
import { readStaged } from '../install/staged.js';
import { isOpen, nextOpening, parseInstallWindow } from '../install/window.js';
import type { Db } from '../store/db.js';
import { type Check, pass } from './check.js';

/**
 * The agent's install window and its staged update (docs/install.md#install-window): no line
 * when neither exists; else whether the window is open now or when it opens (in the agent's
 * TZ), and the update waiting for it.
 */
export function installWindowChecks(config: AgentConfig, db: Db | undefined, clock: Clock): Check[] {
  const staged = db ? readStaged(db) : undefined;
  if (config.installWindow === undefined && !staged) return [];
  const now = clock.now();
  const window = config.installWindow === undefined ? undefined : parseInstallWindow(config.installWindow);
  const parts = [
    window === undefined
      ? 'none (updates install at any time)'
      : isOpen(now, window)
        ? `${window.text} local time: open now`
        : `${window.text} local time: closed, opens ${nextOpening(now, window).toISOString()}`,
  ];
  if (staged) {
    parts.push(
      `update ${staged.softwareVersion} (package ${staged.packageId}) is staged: the first poll-mail pass inside the window installs it`,
    );
  }
  return [pass('install window', parts.join('; '))];
}
