/**
 * The install path as an agent runs it, one call each for the local commands (`rds
 * apply-update`, `rds versions`) and the mail handlers (update, version-request) alike:
 * the agent's store, install root, state dir, clock and logger.
 */
import type * as openpgp from 'openpgp';
import type { Clock } from '../clock.js';
import type { AgentConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { PackageInput } from '../package/source.js';
import type { Db } from '../store/db.js';
import type { VersionReport } from '../version/version-text.js';
import { type ApplyResult, applyUpdate } from './apply.js';
import { installLayout } from './layout.js';
import { currentVersionReport } from './recover.js';

export interface AgentNode {
  db: Db;
  config: Pick<AgentConfig, 'installRoot' | 'stateDir'>;
  clock: Clock;
  logger: Logger;
}

/** The version report as `current` really runs it (recover.ts: an interrupted update finished or undone first). */
export function agentVersionReport(node: AgentNode): VersionReport {
  return currentVersionReport({
    db: node.db,
    layout: installLayout(node.config.installRoot),
    stateDir: node.config.stateDir,
    clock: node.clock,
    logger: node.logger,
  });
}

/**
 * Install a package file (apply.ts), checked with this agent's key and the pinned host key;
 * `carried`: the update command that brought it by mail and the version it announced.
 */
export function installOnAgent(
  node: AgentNode,
  file: PackageInput,
  keys: { agentKey: openpgp.PrivateKey; hostKey: openpgp.PublicKey },
  carried: { commandId?: string; expectedVersion?: string } = {},
): Promise<ApplyResult> {
  return applyUpdate({
    db: node.db,
    layout: installLayout(node.config.installRoot),
    stateDir: node.config.stateDir,
    file,
    ...keys,
    clock: node.clock,
    logger: node.logger,
    ...carried,
  });
}
