/**
 * export-update (docs/install.md#offline-install-export-update): the update mail push-all
 * would send one agent, written to a file instead (package/export-file.ts), for an agent
 * whose mail is broken: carried by USB or scp and installed with `rds apply-update`, with
 * every check of the mail path. The same pieces as push-all: the host's own package, the
 * session key wrapped for this agent's key only, the signed `update` payload naming the
 * rollout (valid for `validForMs`, not the mail TTL), the mail built from its recipe. Once
 * the file is written the agent counts in the rollout as sent; its update-result, mailed
 * at its next poll-mail, records the install there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock.js';
import { TransientError, UsageError } from '../errors.js';
import type { Sender } from '../message/outgoing.js';
import { buildUpdateMail } from '../outbox/update-mail.js';
import { EXPORT_MAX_BYTES, exportFileName, toExportFile } from '../package/export-file.js';
import { readPackageFile, recoverSessionKey, splitPackage } from '../package/wrap.js';
import type { Db } from '../store/db.js';
import { newRolloutId, prepareUpdateMail, readOwnPackage } from './push-all.js';
import { findAgent } from './registry.js';
import { exportRollout, recordExport } from './rollout-store.js';

export interface ExportInput {
  db: Db;
  self: Sender;
  /** the package, as pack-update made it on this host */
  file: string;
  agentId: string;
  /** count the export in this rollout (default: the latest of this package with the agent, else a new one) */
  rolloutId?: string;
  validForMs: number;
  /** where to write (default update-VERSION-AGENT.rdsx in the working folder) */
  output?: string;
  /** replace an existing output file */
  force: boolean;
  clock: Clock;
}

export interface ExportResult {
  file: string;
  bytes: number;
  agentId: string;
  rolloutId: string;
  newRollout: boolean;
  packageId: string;
  target: string;
  payloadId: string;
  expiresAt: string;
}

export async function exportUpdate(input: ExportInput): Promise<ExportResult> {
  const { db, self, clock } = input;
  const agent = findAgent(db, input.agentId);
  if (!agent) throw new UsageError('UNKNOWN_AGENT', `no agent '${input.agentId}' in the registry (rds agents list shows the ids)`);
  const manifest = await readOwnPackage(input.file, self.key);
  const now = clock.now();
  const existing = exportRollout(db, manifest.packageId, agent.id, input.rolloutId);
  const rollout = existing ?? {
    id: newRolloutId(now),
    packageId: manifest.packageId,
    targetVersion: manifest.softwareVersion,
    file: input.file,
    createdAt: now.toISOString(),
  };
  const split = splitPackage(readPackageFile(input.file));
  const sessionKey = await recoverSessionKey(split.prefix, self.key);
  const recipe = await prepareUpdateMail(
    { self, file: input.file, ttlMs: input.validForMs, clock },
    agent,
    rollout.id,
    manifest,
    sessionKey,
  );
  const bytes = toExportFile(await buildUpdateMail(recipe, split.body));
  if (bytes.length > EXPORT_MAX_BYTES) {
    throw new UsageError(
      'EXPORT_TOO_LARGE',
      `the export of ${input.file} would be ${bytes.length} bytes, over the ${EXPORT_MAX_BYTES}-byte maximum`,
    );
  }
  const output = path.resolve(input.output ?? exportFileName(manifest.softwareVersion, agent.id));
  writeExport(output, bytes, input.force);
  const domain = self.address.split('@')[1] ?? 'rds.invalid';
  recordExport(db, rollout, agent.id, now.toISOString(), `<${recipe.payloadId}@${domain}>`);
  return {
    file: output,
    bytes: bytes.length,
    agentId: agent.id,
    rolloutId: rollout.id,
    newRollout: existing === undefined,
    packageId: manifest.packageId,
    target: manifest.softwareVersion,
    payloadId: recipe.payloadId,
    expiresAt: new Date(now.getTime() + input.validForMs).toISOString(),
  };
}

/**
 * Owner-only (0600): the file is as private as the update mail. Never replaces a file
 * unless `force` (then by rename, never through a planted symlink); a half-written file
 * (disk full) is removed.
 */
function writeExport(file: string, bytes: Buffer, force: boolean): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true }); // a leftover of a crashed run with our pid (a symlink is removed, not followed)
  let fd: number;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    throw outputError(file, error);
  }
  try {
    fs.writeFileSync(fd, bytes);
    fs.fchmodSync(fd, 0o600);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    if (force) fs.renameSync(tmp, file);
    else fs.linkSync(tmp, file); // EEXIST when FILE exists: never replaced without --force
  } catch (error) {
    throw outputError(file, error);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function outputError(file: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const dir = path.dirname(file);
  switch (code) {
    case 'EEXIST':
      return new UsageError('OUTPUT_EXISTS', `${file} exists; pass --force to replace it, or name another file with -o`);
    case 'ENOENT':
      return new UsageError('BAD_OUTPUT', `-o ${file}: the folder ${dir} does not exist`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UsageError('BAD_OUTPUT', `-o ${file}: this user may not write to ${dir} (${code})`);
    case 'EISDIR':
    case 'ENOTDIR':
      return new UsageError('BAD_OUTPUT', `-o ${file}: not a file name in a folder (${code})`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new TransientError('DISK_FULL', `no space left on the device of ${dir} (${code}) while writing ${file}; nothing was recorded`);
    default:
      return error as Error;
  }
}
