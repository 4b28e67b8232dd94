/**
 * update-part mails (docs/protocol.md#update-parts) are queued as recipes like update mails
 * (update-mail.ts): the package file and the range of the part, not a copy of its bytes.
 * They are built as they are sent; a part's base64 is computed once and reused for every
 * agent's mail of that part (push-all sends part-major: part 1 to every agent, then part 2…),
 * so the host holds a couple of parts in memory, never the package.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { FailedError, UsageError } from '../errors.js';
import type { MailPieces } from '../mail/types.js';
import { base64Lines } from '../message/base64-lines.js';
import { composeMailPieces } from '../message/mail.js';
import { PART_ATTACHMENT, UPDATE_PART } from '../protocol/update-part.js';
import type { OutboxItem } from './outbox.js';

export interface PartRecipe {
  file: string;
  /** where the part's bytes are in FILE */
  offset: number;
  length: number;
  /** their SHA-256 (hex), as signed in the payload: checked again when the mail is built */
  sha256: string;
  part: number;
  parts: number;
  from: string;
  to: string;
  subject: string;
  text: string;
  payloadId: string;
  armoredPayload: string;
}

/** Build one part mail around the part's already encoded bytes. */
export async function buildPartMail(recipe: PartRecipe, encoded: Buffer): Promise<Buffer> {
  const { pieces, length } = await buildPartMailPieces(recipe, encoded);
  return Buffer.concat(pieces, length);
}

/** The same mail in pieces: the part's encoded bytes are one of them, shared by every agent's mail of the part. */
export async function buildPartMailPieces(recipe: PartRecipe, encoded: Buffer): Promise<MailPieces> {
  const { pieces, length } = await composeMailPieces({
    from: recipe.from,
    to: recipe.to,
    subject: recipe.subject,
    text: recipe.text,
    type: UPDATE_PART,
    payloadId: recipe.payloadId,
    armoredPayload: recipe.armoredPayload,
    encodedAttachments: [{ filename: PART_ATTACHMENT, base64: encoded }],
  });
  return { pieces, length };
}

/** `length` bytes of FILE from `offset` (one part: never the whole package). */
export function readRange(file: string, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  const fd = fs.openSync(file, 'r');
  try {
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, out, got, length - got, offset + got);
      if (n === 0)
        throw new UsageError('PACKAGE_TRUNCATED', `package ${file} ended at byte ${offset + got}, ${length - got} bytes short of its part`);
      got += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/**
 * Encoded parts, the last one kept: part-major sending asks for one part until every agent
 * has it; the mails of the part before still in flight hold their own reference to it (their
 * pieces), so a second one kept would only be 10 MB more of host memory.
 */
export class PartEncodings {
  private readonly cache = new Map<string, Buffer>();

  constructor(
    private readonly read: (file: string, offset: number, length: number) => Buffer = readRange,
    private readonly keep = 1,
  ) {}

  /** base64 lines of the recipe's part; refuses (the mail stays queued) when the file no longer holds the signed bytes. */
  get(recipe: PartRecipe): Buffer {
    const key = `${recipe.offset}:${recipe.length}:${recipe.sha256}:${recipe.file}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const bytes = this.read(recipe.file, recipe.offset, recipe.length);
    if (createHash('sha256').update(bytes).digest('hex') !== recipe.sha256) {
      throw new FailedError(
        'PACKAGE_CHANGED',
        `part ${recipe.part} of ${recipe.file} no longer has the bytes its mail signs (the package file was changed after the push)`,
      );
    }
    const encoded = base64Lines(bytes);
    this.cache.set(key, encoded);
    while (this.cache.size > this.keep) this.cache.delete(this.cache.keys().next().value as string);
    return encoded;
  }
}

/** A builder for queued update-part recipes (any rollout). */
export function partMailBuilder(read: (file: string, offset: number, length: number) => Buffer = readRange) {
  const encodings = new PartEncodings(read);
  return async (item: OutboxItem): Promise<MailPieces> => {
    const recipe = JSON.parse(item.compose ?? '{}') as PartRecipe;
    return buildPartMailPieces(recipe, encodings.get(recipe));
  };
}
