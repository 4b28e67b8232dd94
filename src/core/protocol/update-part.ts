/**
 * update-part (host → agent): one part of an update package too large for one mail
 * (docs/protocol.md#update-parts). The shared encrypted body of the package is cut once per
 * rollout into N parts; part n's bytes travel as the attachment `update.part`, and its
 * signed payload names the package, n of N and the SHA-256 of those bytes. Part 1 also
 * carries this agent's wrapped session key (`pkesk`, base64 of the RFC 9580 PKESK packets
 * put in front of the body), the body's total size and the hashes of all N parts, so a part
 * is checked against the signed list before it is stored. The reassembled package
 * (pkesk ‖ part 1 ‖ … ‖ part N) is then checked and installed exactly as a one-mail update.
 * Extra fields are ignored.
 */
import { REFUSAL, type RefusalCode } from '../errors.js';
import { type BodyCodec, Decoder } from './decoder.js';

export const UPDATE_PART = 'update-part';
/** The attachment holding the part's bytes. */
export const PART_ATTACHMENT = 'update.part';
/** The most parts any package may have on the wire (an agent's own limit is lower: config `parts.maxParts`). */
export const MAX_PARTS_ON_WIRE = 10_000;
/** The longest `pkesk` (base64): a few PKESK packets for one agent key. */
export const MAX_PKESK_BASE64 = 8_192;

const SHA256_RE = /^[0-9a-f]{64}$/;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** What only part 1 carries. */
export interface FirstPartFields {
  /** base64 of this agent's session-key packets (the front of its package) */
  pkesk: string;
  /** bytes of the shared encrypted body (all parts together) */
  totalSize: number;
  /** SHA-256 (hex) of each part, in order; partHashes[0] is part 1's own hash */
  partHashes: string[];
}

export interface UpdatePartBody {
  rolloutId: string;
  packageId: string;
  softwareVersion: string;
  /** 1-based */
  part: number;
  parts: number;
  /** SHA-256 (hex) of this part's attachment bytes */
  sha256: string;
  first?: FirstPartFields;
}

export function encodeUpdatePart(body: UpdatePartBody): Record<string, unknown> {
  return {
    rolloutId: body.rolloutId,
    packageId: body.packageId,
    softwareVersion: body.softwareVersion,
    part: body.part,
    parts: body.parts,
    sha256: body.sha256,
    ...(body.first ? { pkesk: body.first.pkesk, totalSize: body.first.totalSize, partHashes: body.first.partHashes } : {}),
  };
}

function sha256(d: Decoder, value: unknown, field: string): string {
  if (typeof value !== 'string') d.malformed(field, `${field} is not a string`);
  if (!SHA256_RE.test(value)) d.badField(field, 'is not a SHA-256 (64 lower-case hex digits)');
  return value;
}

function ordinal(d: Decoder, value: unknown, field: string, max: number, code: RefusalCode): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) d.malformed(field, `${field} is not an integer`);
  if (value < 1 || value > max) d.refuse(field, `update-part: ${field} ${value} is out of range (1..${max})`, code);
  return value;
}

function decodeFirst(d: Decoder, b: Record<string, unknown>, parts: number, own: string): FirstPartFields {
  if (typeof b.pkesk !== 'string') d.malformed('pkesk', 'part 1 carries no pkesk');
  if (b.pkesk.length > MAX_PKESK_BASE64 || !BASE64_RE.test(b.pkesk))
    d.badField('pkesk', `is not base64 of at most ${MAX_PKESK_BASE64} characters`);
  if (typeof b.totalSize !== 'number' || !Number.isSafeInteger(b.totalSize) || b.totalSize < parts) {
    d.badField('totalSize', 'must be an integer of at least one byte per part');
  }
  const list = d.list(b.partHashes, 'partHashes', MAX_PARTS_ON_WIRE);
  if (list.length !== parts)
    d.refuse('partHashes', `update-part: part list holds ${list.length} hashes for ${parts} parts`, REFUSAL.PART_LIST_MISMATCH);
  const partHashes = list.map((h, i) => sha256(d, h, `partHashes[${i}]`));
  if (partHashes[0] !== own)
    d.refuse('partHashes', "update-part: part list's first hash is not part 1's sha256", REFUSAL.PART_LIST_MISMATCH);
  return { pkesk: b.pkesk, totalSize: b.totalSize, partHashes };
}

export function decodeUpdatePart(value: unknown): UpdatePartBody {
  const d = new Decoder('update-part');
  const b = d.object(value, 'body');
  const rolloutId = d.id(b.rolloutId, 'rolloutId');
  const packageId = d.id(b.packageId, 'packageId');
  if (typeof b.softwareVersion !== 'string') return d.malformed('softwareVersion', 'softwareVersion is not a string');
  const parts = ordinal(d, b.parts, 'parts', MAX_PARTS_ON_WIRE, REFUSAL.TOO_MANY_PARTS);
  const part = ordinal(d, b.part, 'part', parts, REFUSAL.PART_OUT_OF_RANGE);
  const own = sha256(d, b.sha256, 'sha256');
  const body: UpdatePartBody = { rolloutId, packageId, softwareVersion: b.softwareVersion, part, parts, sha256: own };
  if (part === 1) body.first = decodeFirst(d, b, parts, own);
  return body;
}

export const updatePart: BodyCodec<UpdatePartBody> = { encode: encodeUpdatePart, decode: decodeUpdatePart };
