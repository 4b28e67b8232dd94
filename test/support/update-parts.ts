// Update-part mails for the agent-side tests (docs/protocol.md#update-parts), built the way
// the host builds them (protocol/update-part.ts, message/payload.ts, composeMail) but in the
// test: push-all's one-mail update is taken out of the agent's Maildir and cut into parts,
// each a normal signed rds mail, so the agent's reassembly is tested before (and without)
// the host's splitter. `bend` lets a hostile case change what a part says or carries.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { readPrivateKeyFile, readPublicKeyFile } from '../../src/core/crypto/keys.js';
import { verifySignedData } from '../../src/core/crypto/signed-data.js';
import { composeMail, PACKAGE_ATTACHMENT, parseRdsMail } from '../../src/core/message/mail.js';
import { decodePayload, signPayload } from '../../src/core/message/payload.js';
import { splitPackage } from '../../src/core/package/wrap.js';
import type { UpdateBody } from '../../src/core/protocol/update.js';
import { encodeUpdatePart, PART_ATTACHMENT, UPDATE_PART, type UpdatePartBody } from '../../src/core/protocol/update-part.js';
import type { AgentNode, HostNode } from './cli.js';

export interface TakenUpdate {
  update: UpdateBody;
  /** pkesk ‖ body: the agent's whole update.rdsu */
  pkg: Buffer;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The newest update mail in the agent's Maildir inbox: its signed body and package; the mail removed. */
export async function takeUpdateMail(mailRoot: string, agent: AgentNode, host: HostNode): Promise<TakenUpdate> {
  const box = path.join(mailRoot, `${agent.id.toLowerCase()}@example.com`, 'new');
  const hostKey = await readPublicKeyFile(host.publicKeyFile);
  for (const name of fs.readdirSync(box).sort().reverse()) {
    const file = path.join(box, name);
    const mail = await parseRdsMail(fs.readFileSync(file));
    const pkg = mail.attachments.get(PACKAGE_ATTACHMENT);
    if (!pkg || !mail.armoredPayload) continue;
    const payload = decodePayload(await verifySignedData(mail.armoredPayload, hostKey));
    fs.rmSync(file);
    return { update: payload.body as unknown as UpdateBody, pkg };
  }
  throw new Error(`no update mail in ${box}`);
}

export interface PartMailsInput {
  host: HostNode;
  agent: AgentNode;
  taken: TakenUpdate;
  /** bytes of the shared body per part */
  partSize: number;
  /** change a part's body / bytes / recipients / signing key before it is signed (hostile cases) */
  bend?: (n: number, part: { body: UpdatePartBody; bytes: Buffer; to: string[]; key?: openpgp.PrivateKey; id?: string }) => void;
}

export interface PartMail {
  n: number;
  id: string;
  raw: Buffer;
}

/** The update cut into N update-part mails, signed by the host (or whoever `bend` names). */
export async function partMails(input: PartMailsInput): Promise<PartMail[]> {
  const { prefix, body } = splitPackage(input.taken.pkg);
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += input.partSize) chunks.push(Buffer.from(body.subarray(at, at + input.partSize)));
  const hostKey = await readPrivateKeyFile(input.host.keyFile);
  const hashes = chunks.map(sha256);
  const { rolloutId, softwareVersion } = input.taken.update;
  const packageId = input.taken.update.packageId ?? randomUUID();
  const out: PartMail[] = [];
  for (const [i, chunk] of chunks.entries()) {
    const n = i + 1;
    const part = {
      body: {
        rolloutId,
        packageId,
        softwareVersion,
        part: n,
        parts: chunks.length,
        sha256: hashes[i] as string,
        ...(n === 1 ? { first: { pkesk: Buffer.from(prefix).toString('base64'), totalSize: body.length, partHashes: hashes } } : {}),
      } as UpdatePartBody,
      bytes: chunk,
      to: [input.agent.id],
    } as Parameters<NonNullable<PartMailsInput['bend']>>[1];
    input.bend?.(n, part);
    out.push(await partMail(input, part, hostKey));
  }
  return out;
}

async function partMail(
  input: PartMailsInput,
  part: Parameters<NonNullable<PartMailsInput['bend']>>[1],
  hostKey: openpgp.PrivateKey,
): Promise<PartMail> {
  const issued = new Date();
  const id = part.id ?? randomUUID();
  const payload = {
    format: 1,
    type: UPDATE_PART,
    id,
    from: 'HOST',
    to: part.to,
    issuedAt: issued.toISOString(),
    expiresAt: new Date(issued.getTime() + 7 * 86_400_000).toISOString(),
    body: encodeUpdatePart(part.body),
  };
  const armoredPayload = await signPayload(payload as never, part.key ?? hostKey);
  const { raw } = await composeMail({
    from: 'host@example.com',
    to: `${input.agent.id.toLowerCase()}@example.com`,
    subject: `[rds] update ${part.body.softwareVersion} part ${part.body.part}/${part.body.parts}`,
    text: 'update part',
    type: UPDATE_PART,
    payloadId: id,
    armoredPayload,
    attachments: [{ filename: PART_ATTACHMENT, content: part.bytes }],
  });
  return { n: part.body.part, id, raw };
}

let drops = 0;

/** Deliver like an MTA into the agent's Maildir: tmp/, then new/. */
export function dropInto(mailRoot: string, agent: AgentNode, raw: Buffer): void {
  const box = path.join(mailRoot, `${agent.id.toLowerCase()}@example.com`);
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(box, sub), { recursive: true, mode: 0o700 });
  const name = `${Date.now()}.P${process.pid}Q${++drops}.parts,S=${raw.length}`;
  fs.writeFileSync(path.join(box, 'tmp', name), raw, { mode: 0o600 });
  fs.renameSync(path.join(box, 'tmp', name), path.join(box, 'new', name));
}
