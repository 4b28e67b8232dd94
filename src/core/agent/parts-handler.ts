/**
 * update-part (docs/protocol.md#update-parts, docs/install.md#update-parts): after the mail
 * passed every acceptance rule, its part is checked against its signed SHA-256 (and part 1's
 * signed list once known), held to the agent's limits, and stored durably
 * (parts-store.ts). When all N are there the package is installed exactly as a one-mail
 * update (install-update.ts), its parts read in order straight into the decrypt, then its
 * parts are deleted.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { diskFullError, REFUSAL, type RefusalCode, SecurityError } from '../errors.js';
import { mkdirNoFollow } from '../fs/trust.js';
import type { Handler } from '../message/inbound.js';
import { collectGarbage, collectYoungGarbage } from '../package/memory.js';
import { bodyHandler } from '../protocol/index.js';
import { PART_ATTACHMENT, UPDATE_PART, type UpdatePartBody } from '../protocol/update-part.js';
import { UPDATE_RESULT } from '../protocol/update-result.js';
import type { AgentHandlerContext } from './handlers.js';
import { installUpdateFile, type JoinedPackage } from './install-update.js';
import { type PartsLimits, partsLimits } from './parts-limits.js';
import { type PackageKey, type PartPackage, PartStore, type PartStoreOptions } from './parts-store.js';
import { refusedBody, reply } from './update-reply.js';

/** The reason code of a package refused for want of disk space (not a security refusal: the mail is handled, not quarantined). */
export const NO_SPACE = 'NO_SPACE';
/** How much free space a new package needs, as a multiple of its size: its parts, then its decrypted archive (or its joined copy, staged). */
export const SPACE_FACTOR = 2;

export interface PartsSeams extends PartStoreOptions {
  /** free bytes for rds on the state dir's file system (tests inject a small disk) */
  freeBytes?: (dir: string) => number;
  /** the install of the reassembled file (tests of reassembly alone count the calls) */
  install?: typeof installUpdateFile;
}

const statfsFree = (dir: string) => {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
};

interface PartInput {
  ctx: AgentHandlerContext;
  store: PartStore;
  limits: PartsLimits;
  body: UpdatePartBody;
  key: PackageKey;
  payloadId: string;
  seams: PartsSeams;
}

const label = (b: UpdatePartBody) => `part ${b.part} of ${b.parts} of package ${b.packageId}`;

/**
 * After each part mail the mail's copies (its text, the decoded part) are garbage V8 would
 * collect only 64 MB later, under the next parts or the install: a young-only collection
 * after every part mail, and a full one after every ~24 MB of parts (bench parts-agent,
 * 200 MB in 30 parts: peak RSS 129 MB, vs 121 MB with a full one after every part mail —
 * ~20 ms CPU each — and 139 MB with young-only ones).
 */
const FULL_GC_PART_BYTES = 24 * 1024 * 1024;
let sinceFullGc = 0;

function collectAfterPart(size: number): void {
  sinceFullGc += size;
  if (sinceFullGc < FULL_GC_PART_BYTES) {
    collectYoungGarbage();
    return;
  }
  sinceFullGc = 0;
  collectGarbage();
}

export const handleUpdatePart = (ctx: AgentHandlerContext, seams: PartsSeams = {}): Handler =>
  bodyHandler(UPDATE_PART, ctx.clock, async (body, { accepted, mail }) => {
    const input: PartInput = {
      ctx,
      store: new PartStore(ctx.db, ctx.config.stateDir, seams),
      limits: partsLimits(ctx.config),
      body,
      key: { rolloutId: body.rolloutId, packageId: body.packageId },
      payloadId: accepted.payload.id,
      seams,
    };
    const size = mail.attachments.get(PART_ATTACHMENT)?.length ?? 0;
    const taken = await takePart(input, mail.attachments);
    collectAfterPart(size); // the part's bytes are on disk
    return typeof taken === 'string' ? taken : reassembleAndInstall(input, taken);
  });

/** The part checked and stored: an outcome, or its package when all N are here. */
async function takePart(input: PartInput, attachments: Map<string, Buffer>): Promise<string | PartPackage> {
  const { body } = input;
  const bytes = attachments.get(PART_ATTACHMENT);
  if (!bytes) throw new SecurityError(REFUSAL.MALFORMED, `update-part mail carries no ${PART_ATTACHMENT}`);
  attachments.delete(PART_ATTACHMENT); // no reference left once stored (an install may follow)
  if (sha256(bytes) !== body.sha256) {
    throw new SecurityError(REFUSAL.PART_HASH_MISMATCH, `${label(body)}: its bytes do not match its signed sha256`);
  }
  let pkg = input.store.get(input.key);
  if (pkg && pkg.state !== 'open') return closedPackage(pkg, body);
  await checkLimits(input, bytes.length);
  if (!pkg) {
    const admitted = await admitPackage(input, bytes.length);
    if (!admitted) return 'refused';
    pkg = admitted;
  }
  if (pkg.parts !== body.parts) {
    throw new SecurityError(REFUSAL.PART_LIST_MISMATCH, `${label(body)}: its package was announced with ${pkg.parts} parts`);
  }
  if (body.first) pkg = await takeFirst(input, pkg);
  const signed = pkg.first?.partHashes[body.part - 1];
  if (signed !== undefined && signed !== body.sha256) {
    throw new SecurityError(REFUSAL.PART_HASH_MISMATCH, `${label(body)}: its sha256 is not the one part 1's signed list names`);
  }
  const fresh = !input.store.has(input.key, body.part);
  if (fresh) await storePart(input, pkg, bytes);
  const now = input.store.get(input.key) as PartPackage;
  if (now.first && input.store.missing(now).length === 0) return now;
  return fresh ? (now.first ? 'stored' : 'kept (no part 1 yet)') : 'duplicate';
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A part of a package already installed (a late copy) or refused: dropped, or quarantined with the package's code. */
function closedPackage(pkg: PartPackage, body: UpdatePartBody): string {
  if (pkg.state === 'done' || pkg.refusedCode === NO_SPACE) return pkg.state === 'done' ? 'duplicate' : 'refused';
  throw new SecurityError(pkg.refusedCode as RefusalCode, `${label(body)}: its package was refused (${pkg.refusedCode})`);
}

async function checkLimits(input: PartInput, size: number): Promise<void> {
  const { body, limits, store, key } = input;
  if (body.parts > limits.maxParts) {
    await refusePackage(
      input,
      REFUSAL.TOO_MANY_PARTS,
      `package ${body.packageId} has ${body.parts} parts, over this agent's ${limits.maxParts} (parts.maxParts)`,
    );
  }
  const total = body.first ? body.first.totalSize : store.storedBytes(key) + size;
  if (total > limits.maxTotalBytes) {
    await refusePackage(
      input,
      REFUSAL.PACKAGE_TOO_LARGE,
      `package ${body.packageId} would hold ${total} bytes, over this agent's ${limits.maxTotalBytes} (parts.maxTotalBytes)`,
    );
  }
}

/** A package's first part here: a free reassembly slot and disk space for the whole package, or it is refused. */
async function admitPackage(input: PartInput, size: number): Promise<PartPackage | undefined> {
  const { body, limits, store } = input;
  if (store.openCount() >= limits.maxPackages) {
    await refusePackage(
      input,
      REFUSAL.REASSEMBLY_FULL,
      `package ${body.packageId} cannot start: ${limits.maxPackages} packages are already in reassembly (parts.maxPackages)`,
    );
  }
  const estimate = body.first ? body.first.totalSize : size * body.parts;
  const need = SPACE_FACTOR * estimate;
  // the file system the parts go to: STATE/parts once it exists (it may be a mount of its own)
  const where = fs.existsSync(store.root) ? store.root : input.ctx.config.stateDir;
  const free = (input.seams.freeBytes ?? statfsFree)(where);
  if (free < need) {
    await refusePackage(
      input,
      NO_SPACE,
      `no space for package ${body.packageId}: it needs ${need} bytes free (${SPACE_FACTOR} × ${estimate}) on the disk of ${where}, ${free} are`,
    );
    return undefined;
  }
  return store.create(input.key, {
    softwareVersion: body.softwareVersion,
    parts: body.parts,
    payloadId: input.payloadId,
    now: input.ctx.clock.now(),
  });
}

/**
 * Refused once: the host hears an update-result `refused` with the code, the package's parts
 * are deleted and later ones are not stored. A security code is then thrown (this mail goes
 * to quarantine); NO_SPACE returns (the mail is handled).
 */
async function refusePackage(input: PartInput, code: string, reason: string): Promise<void> {
  const { ctx, store, key, body } = input;
  const existing = store.get(key);
  if (!existing)
    store.create(key, { softwareVersion: body.softwareVersion, parts: body.parts, payloadId: input.payloadId, now: ctx.clock.now() });
  store.close(key, 'refused', code);
  const inReplyTo = existing?.firstPayloadId ?? input.payloadId;
  await reply(
    ctx,
    UPDATE_RESULT,
    inReplyTo,
    refusedBody(ctx, key, reason, code),
    `update ${body.softwareVersion} refused by ${ctx.self.id}`,
  );
  ctx.logger.warn('update parts refused', { package: body.packageId, code, reason });
  if (code !== NO_SPACE) throw new SecurityError(code as RefusalCode, reason);
}

/** Part 1 came: its signed list is the truth; a stored part that disagrees is dropped (quarantine record) and asked for again. */
async function takeFirst(input: PartInput, pkg: PartPackage): Promise<PartPackage> {
  const { store, key, body, ctx } = input;
  const first = body.first;
  if (!first || pkg.first) return pkg;
  store.setFirst(key, first, input.payloadId);
  for (const part of store.stored(key)) {
    if (first.partHashes[part.part - 1] === part.sha256) continue;
    store.dropPart(pkg, part.part);
    const reason = `part ${part.part} of ${body.parts} of package ${body.packageId}: its sha256 is not the one part 1's signed list names; dropped, asked for again`;
    ctx.db
      .prepare('INSERT INTO quarantine (received_at, reason_code, reason, payload_id, location) VALUES (?, ?, ?, ?, ?)')
      .run(ctx.clock.now().toISOString(), REFUSAL.PART_HASH_MISMATCH, reason, input.payloadId, `parts/${pkg.dir}/${part.part}.part`);
    ctx.logger.warn('stored update part dropped', { code: REFUSAL.PART_HASH_MISMATCH, reason });
  }
  return store.get(key) as PartPackage;
}

async function storePart(input: PartInput, pkg: PartPackage, bytes: Buffer): Promise<void> {
  const { store, body } = input;
  try {
    store.storePart(pkg, body.part, body.sha256, bytes, input.payloadId, input.ctx.clock.now());
  } catch (error) {
    // disk full half way: a transient error, the mail stays in the inbox, nothing is lost
    fs.rmSync(store.partFile(pkg, body.part), { force: true });
    throw diskFullError(error, store.root) ?? error;
  }
}

/**
 * All N here: installed as a one-mail update, read from pkesk ‖ parts in order (joined into
 * one package file only when it is staged for the install window), then the parts deleted.
 */
async function reassembleAndInstall(input: PartInput, pkg: PartPackage): Promise<string> {
  const { ctx, store, key } = input;
  const first = pkg.first as NonNullable<PartPackage['first']>;
  const commandId = pkg.firstPayloadId ?? input.payloadId;
  const stored = store.stored(key).reduce((n, p) => n + p.size, 0);
  if (stored !== first.totalSize) {
    await refusePackage(
      input,
      REFUSAL.PART_LIST_MISMATCH,
      `package ${pkg.packageId}: its ${pkg.parts} parts hold ${stored} bytes, part 1 signed ${first.totalSize}`,
    );
  }
  const joined: JoinedPackage = { source: store.source(pkg), assemble: () => assembleFile(input, pkg, commandId) };
  const update = { rolloutId: pkg.rolloutId, packageId: pkg.packageId, softwareVersion: pkg.softwareVersion };
  try {
    const outcome = await (input.seams.install ?? installUpdateFile)(ctx, update, commandId, joined);
    store.close(key, 'done');
    return outcome;
  } catch (error) {
    if (error instanceof SecurityError) store.close(key, 'refused', error.code);
    throw error;
  }
}

/** pkesk ‖ parts into one package file under STATE/incoming (0600, synced). */
function assembleFile(input: PartInput, pkg: PartPackage, commandId: string): string {
  const incoming = path.join(input.ctx.config.stateDir, 'incoming');
  mkdirNoFollow(incoming);
  const file = path.join(incoming, `${commandId}.rdsu`);
  fs.rmSync(file, { force: true }); // a leftover of a pass that died here
  try {
    input.store.assemble(pkg, file);
  } catch (error) {
    throw diskFullError(error, incoming) ?? error;
  }
  return file;
}
