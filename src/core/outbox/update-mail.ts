import type { MailPieces } from '../mail/types.js';
import { SharedBase64 } from '../message/base64-lines.js';
import { composeMail, PACKAGE_ATTACHMENT } from '../message/mail.js';
import { readPackageFile, splitPackage } from '../package/wrap.js';
import { UPDATE } from '../protocol/update.js';
import { UPDATE_PART } from '../protocol/update-part.js';
import type { OutboxItem } from './outbox.js';
import { partMailBuilder } from './part-mail.js';

/**
 * Update mails are queued as recipes (not N copies of the package) and built as they are
 * sent: push-all queues them, and any later flush (`rds inbox`, `request-versions`…) may
 * send what an interrupted push-all left. Both sides build them here, so the generic
 * flush needs no host code.
 */
export interface UpdateRecipe {
  file: string;
  pkesk: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  payloadId: string;
  armoredPayload: string;
}

/**
 * Build an update mail from its recipe; `body` is the shared encrypted data. Pass the same
 * `SharedBase64` for every mail of a rollout: its base64 is then computed once, not per
 * agent (1.4 MB of encoding per mail cost more CPU than sending it).
 */
export async function buildUpdateMail(recipe: UpdateRecipe, body: Uint8Array | SharedBase64): Promise<Buffer> {
  const shared = body instanceof SharedBase64 ? body : new SharedBase64(body);
  const { raw } = await composeMail({
    from: recipe.from,
    to: recipe.to,
    subject: recipe.subject,
    text: recipe.text,
    type: UPDATE,
    payloadId: recipe.payloadId,
    armoredPayload: recipe.armoredPayload,
    encodedAttachments: [{ filename: PACKAGE_ATTACHMENT, base64: shared.encodeParts(Buffer.from(recipe.pkesk, 'base64')) }],
  });
  return raw;
}

/** A builder for queued recipes of any rollout (reads and encodes each package body once; update-part mails: part-mail.ts). */
export function updateMailBuilder(knownBody?: { file: string; body: Uint8Array }) {
  const bodies = new Map<string, SharedBase64>();
  if (knownBody) bodies.set(knownBody.file, new SharedBase64(knownBody.body));
  const parts = partMailBuilder();
  return async (item: OutboxItem): Promise<Buffer | MailPieces> => {
    if (item.kind === UPDATE_PART) return parts(item); // part-mail.ts
    const recipe = JSON.parse(item.compose ?? '{}') as UpdateRecipe;
    let body = bodies.get(recipe.file);
    if (!body) {
      body = new SharedBase64(splitPackage(readPackageFile(recipe.file)).body);
      bodies.set(recipe.file, body);
    }
    return buildUpdateMail(recipe, body);
  };
}
