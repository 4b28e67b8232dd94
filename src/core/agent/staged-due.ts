/**
 * Whether an update staged for the install window is due now (docs/install.md#install-window):
 * the cheap check a `poll-mail` pass makes before it loads the install path.
 */
import type { Clock } from '../clock.js';
import type { AgentConfig } from '../config/schema.js';
import { isOpen, nextOpening, parseInstallWindow } from '../install/window.js';
import type { Db } from '../store/db.js';

/** When the install window opens next, if the agent has one and it is closed now; else undefined. */
export function windowClosedUntil(ctx: { config: AgentConfig; clock: Clock }): Date | undefined {
  if (ctx.config.installWindow === undefined) return undefined;
  const window = parseInstallWindow(ctx.config.installWindow);
  const now = ctx.clock.now();
  return isOpen(now, window) ? undefined : nextOpening(now, window);
}

/** An update is staged (table staged_update, core/install/staged.ts) and the window is open. */
export function stagedUpdateDue(ctx: { db: Db; config: AgentConfig; clock: Clock }): boolean {
  const staged = ctx.db.prepare('SELECT 1 FROM staged_update WHERE slot = 1').get();
  return staged !== undefined && windowClosedUntil(ctx) === undefined;
}
