/**
 * Pushing a package as update-part mails (docs/protocol.md#update-parts): the cut decided
 * once per rollout (parts.ts) and recorded (migration 016), and each agent's part mails as
 * recipes (outbox/part-mail.ts). Per agent only part 1's wrapped session key and one small
 * signed payload per part are made; the parts' bytes, hashes and base64 are shared.
 */
import fs from 'node:fs';
import type * as openpgp from 'openpgp';
import type { Clock } from '../clock.js';
import { SecurityError, UsageError } from '../errors.js';
import type { Sender } from '../message/outgoing.js';
import { buildPayload, signPayload } from '../message/payload.js';
import type { EnqueueInput } from '../outbox/outbox.js';
import { buildPartMail, type PartRecipe } from '../outbox/part-mail.js';
import { sessionKeyPrefixLength } from '../package/packets.js';
import { type SessionKey, wrapSessionKey } from '../package/wrap.js';
import { encodeUpdatePart, MAX_PKESK_BASE64, UPDATE_PART } from '../protocol/update-part.js';
import type { Db } from '../store/db.js';
import { base64LinesLength, cutParts, hashParts, type PartCut, partRange } from './parts.js';

/**
 * Room left in every part mail for what the probe cannot know in advance: a Date header or
 * a signature a few bytes longer, the payload attachment's encoding of other characters.
 */
export const PART_MAIL_SLACK = 1024;

export interface PartsPlan extends PartCut {
  /** where the shared body starts in the package file (after the host's session-key packets) */
  bodyOffset: number;
  /** bytes of the shared body */
  totalSize: number;
  hashes: string[];
  /** the mail size limit the cut was made for */
  mailLimit: number;
  /** bytes of a part-1 mail around its part (the longest agent's fields, the longest pkesk, the slack) */
  overhead: number;
}

/** A package file's size and where its shared body starts, from its first bytes only. */
export function packageLayout(file: string): { fileSize: number; prefix: Buffer; bodyOffset: number } {
  let head: Buffer;
  let fileSize: number;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      fileSize = fs.fstatSync(fd).size;
      head = Buffer.alloc(Math.min(fileSize, 256 * 1024));
      fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw new UsageError('PACKAGE_UNREADABLE', `cannot read package ${file}: ${(error as NodeJS.ErrnoException).code}`, { cause: error });
  }
  try {
    const bodyOffset = sessionKeyPrefixLength(head);
    return { fileSize, prefix: head.subarray(0, bodyOffset), bodyOffset };
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    throw new UsageError('NOT_A_PACKAGE', `${file} is not an update package made by rds pack-update on this host (${error.message})`, {
      cause: error,
    });
  }
}

export interface PartMailInput {
  self: Sender;
  file: string;
  ttlMs: number;
  clock: Clock;
}

interface Manifest {
  packageId: string;
  softwareVersion: string;
}

/**
 * Bytes of a part-1 mail with an empty part, for N parts: built like a real one, with the
 * longest pkesk the wire allows and the longest agent id and address of the rollout.
 */
async function probeOverhead(input: PartMailInput, agents: { id: string; address: string }[], manifest: Manifest, parts: number) {
  const id = agents.reduce((a, b) => (b.id.length > a.length ? b.id : a), '');
  const address = agents.reduce((a, b) => (b.address.length > a.length ? b.address : a), '');
  const hash = '0'.repeat(64);
  const recipe = await signPart(input, { id, address }, 'R00000000000000-00000000', manifest, {
    part: 1,
    parts,
    sha256: hash,
    first: { pkesk: 'A'.repeat(MAX_PKESK_BASE64), totalSize: parts, partHashes: Array.from({ length: parts }, () => hash) },
  });
  return (await buildPartMail({ ...recipe, offset: 0, length: 0 }, Buffer.alloc(0))).length + PART_MAIL_SLACK;
}

/** The cut of FILE's shared body for mails of at most `limit` bytes, its parts hashed (read in chunks). */
export async function planParts(
  input: PartMailInput,
  agents: { id: string; address: string }[],
  manifest: Manifest,
  layout: { fileSize: number; bodyOffset: number },
  limit: number,
): Promise<PartsPlan> {
  const totalSize = layout.fileSize - layout.bodyOffset;
  const overheads = new Map<number, number>();
  const overhead = async (n: number) => {
    let got = overheads.get(n);
    if (got === undefined) {
      got = await probeOverhead(input, agents, manifest, n);
      overheads.set(n, got);
    }
    return got;
  };
  const cut = await cutParts(totalSize, limit, overhead);
  const whole = { ...cut, bodyOffset: layout.bodyOffset, totalSize };
  return { ...whole, hashes: hashParts(input.file, whole), mailLimit: limit, overhead: await overhead(cut.parts) };
}

/** At most how many bytes the part mails to one agent take (each bounded as part 1 is). */
export function agentMailBytes(plan: PartsPlan): number {
  let bytes = 0;
  for (let n = 1; n <= plan.parts; n++) bytes += plan.overhead + base64LinesLength(partRange(plan, n).length);
  return bytes;
}

export function recordPartsPlan(db: Db, rolloutId: string, plan: PartsPlan): void {
  db.prepare(
    `INSERT OR IGNORE INTO rollout_parts (rollout_id, body_offset, total_size, part_size, parts, hashes, mail_limit, overhead)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(rolloutId, plan.bodyOffset, plan.totalSize, plan.partSize, plan.parts, JSON.stringify(plan.hashes), plan.mailLimit, plan.overhead);
}

interface PlanRow {
  body_offset: number;
  total_size: number;
  part_size: number;
  parts: number;
  hashes: string;
  mail_limit: number;
  overhead: number;
}

/** The cut recorded for a rollout, or undefined when it goes out as one mail per agent. */
export function loadPartsPlan(db: Db, rolloutId: string): PartsPlan | undefined {
  const row = db.prepare('SELECT * FROM rollout_parts WHERE rollout_id = ?').get(rolloutId) as PlanRow | undefined;
  if (!row) return undefined;
  return {
    bodyOffset: row.body_offset,
    totalSize: row.total_size,
    partSize: row.part_size,
    parts: row.parts,
    hashes: JSON.parse(row.hashes) as string[],
    mailLimit: row.mail_limit,
    overhead: row.overhead,
  };
}

interface PartFields {
  part: number;
  parts: number;
  sha256: string;
  first?: { pkesk: string; totalSize: number; partHashes: string[] };
}

/** One part mail's recipe without its range: the payload signed for AGENT. */
async function signPart(
  input: PartMailInput,
  agent: { id: string; address: string },
  rolloutId: string,
  manifest: Manifest,
  fields: PartFields,
): Promise<Omit<PartRecipe, 'offset' | 'length'>> {
  const payload = buildPayload({
    type: UPDATE_PART,
    from: input.self.id,
    to: [agent.id],
    body: encodeUpdatePart({ rolloutId, packageId: manifest.packageId, softwareVersion: manifest.softwareVersion, ...fields }),
    ttlMs: input.ttlMs,
    clock: input.clock,
  });
  return {
    file: input.file,
    sha256: fields.sha256,
    part: fields.part,
    parts: fields.parts,
    from: input.self.address,
    to: agent.address,
    subject: `[rds] update to ${manifest.softwareVersion} for ${agent.id}, part ${fields.part} of ${fields.parts}`,
    text: `Update ${manifest.softwareVersion} (rollout ${rolloutId}) for ${agent.id}: part ${fields.part} of ${fields.parts}.\nThe agent reassembles, verifies, installs and reports back by itself.`,
    payloadId: payload.id,
    armoredPayload: await signPayload(payload, input.self.key),
  };
}

/** The recipe of part N for AGENT; part 1 wraps the session key for the agent's key. */
export async function preparePart(
  input: PartMailInput,
  agent: { id: string; address: string; publicKey: string },
  rolloutId: string,
  manifest: Manifest,
  plan: PartsPlan,
  n: number,
  sessionKey?: SessionKey,
): Promise<PartRecipe> {
  const sha256 = plan.hashes[n - 1] as string;
  const fields: PartFields = { part: n, parts: plan.parts, sha256 };
  if (n === 1) {
    if (!sessionKey) throw new Error('part 1 needs the session key');
    const { readPublicKey } = await import('../crypto/keys.js');
    const agentKey: openpgp.PublicKey = await readPublicKey(agent.publicKey, `key of ${agent.id}`);
    const pkesk = Buffer.from(await wrapSessionKey(sessionKey, agentKey)).toString('base64');
    fields.first = { pkesk, totalSize: plan.totalSize, partHashes: plan.hashes };
  }
  const recipe = await signPart(input, agent, rolloutId, manifest, fields);
  return { ...recipe, ...partRange(plan, n) };
}

/**
 * The outbox item of one part mail. `counted`: a part of the rollout's update to the agent
 * (it carries the rollout id: migration 016 counts part 1 as the attempt and marks the agent
 * sent with its last part); a re-sent part (a parts-request answered) changes no rollout state.
 */
export function partItem(
  selfAddress: string,
  recipe: PartRecipe,
  rolloutId: string,
  agent: { id: string; address: string },
  counted: boolean,
): EnqueueInput {
  const domain = selfAddress.split('@')[1] ?? 'rds.invalid';
  return {
    messageId: `<${recipe.payloadId}@${domain}>`,
    kind: UPDATE_PART,
    ref: `${rolloutId}:${agent.id}:${recipe.part}/${recipe.parts}`,
    ...(counted ? { rolloutId, agentId: agent.id } : {}),
    envelope: { from: selfAddress, to: [agent.address] },
    compose: recipe,
    part: recipe.part,
  };
}
