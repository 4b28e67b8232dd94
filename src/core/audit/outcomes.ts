/**
 * The outcomes core records (docs/audit.md#what-is-recorded), one call each at the place it
 * happens, so those places change by one line: an agent's update result taken in by the
 * host, a quarantined mail, an install and a rollback on an agent.
 */
import type { UpdateManifest } from '../package/manifest.js';
import type { UpdateResultBody } from '../protocol/update-result.js';
import type { Db } from '../store/db.js';
import { appendAudit } from './store.js';

export function auditUpdateResult(db: Db, agentId: string, body: UpdateResultBody, now: Date): void {
  appendAudit(db, { action: 'install-result', agents: [agentId], detail: { ...body, logTail: undefined, versionText: undefined } }, now);
}

export function auditQuarantine(db: Db, q: { code: string; from?: string | undefined; reason: string }, now: Date): void {
  appendAudit(db, { action: 'mail-quarantined', detail: q }, now);
}

export function auditInstall(db: Db, manifest: UpdateManifest, previous: string, now: Date): void {
  appendAudit(db, { action: 'install', detail: { packageId: manifest.packageId, version: manifest.softwareVersion, previous } }, now);
}

export function auditRollback(db: Db, manifest: UpdateManifest, reason: string, now: Date): void {
  appendAudit(db, { action: 'rollback', detail: { packageId: manifest.packageId, version: manifest.softwareVersion, reason } }, now);
}
