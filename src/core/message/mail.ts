/**
 * One mail carries one message (docs/protocol.md#the-mail-envelope): a short text for
 * people, the signed payload as `payload.asc`, and, depending on the type, `update.rdsu`
 * (the package) or `versions.txt` (the version report, also inside the payload). RFC 5322 /
 * RFC 2045.
 */
import { randomBytes } from 'node:crypto';
import { REFUSAL, SecurityError } from '../errors.js';
import { exciseBase64Bodies, LEAN_MIN_BYTES, restoreBodies } from './lean-mail.js';
import { parseRdsMailFast } from './mail-fast.js';

export const PAYLOAD_ATTACHMENT = 'payload.asc';
export const PACKAGE_ATTACHMENT = 'update.rdsu';
export const VERSIONS_ATTACHMENT = 'versions.txt';

export interface MailAttachment {
  filename: string;
  content: Buffer;
  contentType?: string;
}

/**
 * An attachment whose content the caller already encoded: base64 in 76-character lines
 * (`base64-lines.ts`), as nodemailer would write it, possibly in several pieces. push-all
 * encodes its shared package body once instead of once per agent.
 */
export interface EncodedAttachment {
  filename: string;
  base64: Buffer | Buffer[];
  contentType?: string;
}

const PLAIN_FILENAME = /^[A-Za-z0-9._-]{1,64}$/;

/** The MIME part headers nodemailer writes for an attachment (ASCII names only). */
function encodedPartHead(a: EncodedAttachment): string {
  if (!PLAIN_FILENAME.test(a.filename)) throw new Error(`encoded attachment name '${a.filename}' needs MIME encoding`);
  const type = a.contentType ?? 'application/octet-stream';
  return `Content-Type: ${type}; name=${a.filename}\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=${a.filename}\r\n\r\n`;
}

/**
 * Encoded parts are composed as a short unique marker and spliced in afterwards, so their
 * megabytes are never copied through the composer's streams (three copies and as many
 * allocations of 1.4 MB per update mail, measured): the mail is the composed text around
 * the markers and the encoded pieces themselves, in order.
 */
function spliceEncoded(composed: Buffer, markers: string[], parts: EncodedAttachment[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  markers.forEach((marker, i) => {
    const at = composed.indexOf(marker, from, 'latin1');
    if (at < 0 || composed.indexOf(marker, at + marker.length, 'latin1') >= 0)
      throw new Error('composed mail: encoded part marker not found once');
    pieces.push(composed.subarray(from, at), ...([] as Buffer[]).concat((parts[i] as EncodedAttachment).base64));
    from = at + marker.length;
  });
  pieces.push(composed.subarray(from));
  return pieces;
}

export interface ComposeInput {
  from: string;
  to: string;
  subject: string;
  text: string;
  type: string;
  payloadId: string;
  armoredPayload: string;
  attachments?: MailAttachment[];
  /** after `attachments`, parts whose content is already encoded */
  encodedAttachments?: EncodedAttachment[];
  date?: Date;
}

export async function composeMail(input: ComposeInput): Promise<{ raw: Buffer; messageId: string }> {
  const { pieces, length, messageId } = await composeMailPieces(input);
  return { raw: pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, length), messageId };
}

/**
 * The same mail as composeMail's, as consecutive pieces: the encoded attachments' buffers are
 * pieces of it as given, not copied (a part mail's 10 MB of base64 is shared by every agent's
 * mail of that part; the SMTP sender streams the pieces: mail/smtp-stream.ts).
 */
export async function composeMailPieces(input: ComposeInput): Promise<{ pieces: Buffer[]; length: number; messageId: string }> {
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const domain = input.from.split('@')[1] ?? 'rds.invalid';
  const messageId = `<${input.payloadId}@${domain}>`;
  const encoded = input.encodedAttachments ?? [];
  const markers = encoded.map(() => `RDS-ENCODED-PART-${randomBytes(12).toString('hex')}`);
  const composer = new MailComposer({
    from: input.from,
    to: input.to,
    subject: input.subject,
    text: input.text,
    messageId,
    date: input.date ?? new Date(),
    headers: { 'X-RDS-Type': input.type, 'X-RDS-Id': input.payloadId, 'X-RDS-Format': '1' },
    attachments: [
      { filename: PAYLOAD_ATTACHMENT, content: input.armoredPayload, contentType: 'application/pgp-signature' },
      ...(input.attachments ?? []).map((a) => ({
        filename: a.filename,
        content: a.content,
        contentType: a.contentType ?? 'application/octet-stream',
      })),
      ...encoded.map((a, i) => ({ raw: `${encodedPartHead(a)}${markers[i]}` })),
    ],
  });
  const composed = await buildComposed(composer);
  const pieces = encoded.length > 0 ? spliceEncoded(composed, markers, encoded) : [composed];
  return { pieces, length: pieces.reduce((n, p) => n + p.length, 0), messageId };
}

/** The finished RFC 5322 bytes of a nodemailer MailComposer (rds mail and plain alert mail alike). */
export function buildComposed(composer: {
  compile(): { build(done: (error: Error | null, message: Buffer) => void): void };
}): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) =>
    composer.compile().build((error: Error | null, message: Buffer) => (error ? reject(error) : resolve(message))),
  );
}

export interface ParsedRdsMail {
  from: string;
  subject: string;
  messageId?: string;
  armoredPayload?: string;
  attachments: Map<string, Buffer>;
}

export interface MailLimits {
  maxHeaderBytes: number;
  maxMimeDepth: number;
  maxParts: number;
}
export const DEFAULT_MAIL_LIMITS: MailLimits = { maxHeaderBytes: 64 * 1024, maxMimeDepth: 8, maxParts: 16 };

/**
 * Cheap structural checks before a MIME parser sees the bytes: enormous headers and
 * deeply nested multiparts are refused here (resource exhaustion), so the parser only
 * ever gets mail of a shape rds itself would send.
 */
export function precheckMail(raw: Buffer, limits: MailLimits = DEFAULT_MAIL_LIMITS): void {
  const scan = raw.subarray(0, limits.maxHeaderBytes + 4).toString('latin1');
  const end = scan.search(/\r?\n\r?\n/);
  if (end < 0 && raw.length > limits.maxHeaderBytes) {
    throw new SecurityError(REFUSAL.MALFORMED_MAIL, `mail headers exceed ${limits.maxHeaderBytes} bytes`);
  }
  const boundaries = raw.toString('latin1').match(/^content-type:\s*multipart\//gim)?.length ?? 0;
  if (boundaries > limits.maxMimeDepth) {
    throw new SecurityError(REFUSAL.MALFORMED_MAIL, `mail nests ${boundaries} multipart parts (at most ${limits.maxMimeDepth})`);
  }
}

export interface ParseOptions {
  /** base64 bodies at least this long take the lean path (lean-mail.ts); Infinity: never */
  leanMinBytes?: number;
  /** told which way the mail was parsed (tests count the cases) */
  took?: (way: 'lean' | 'fast' | 'full') => void;
}

/**
 * The mail's sender, subject, id and attachments (`payload.asc` as text), after the
 * prechecks. A large mail's long base64 bodies are decoded by the lean path (lean-mail.ts)
 * and mailparser parses the rest; a small one in rds's own shape is read without mailparser
 * (mail-fast.ts); anything else goes through mailparser whole. Each path gives what
 * mailparser over the whole mail gives, refusals included (their property tests).
 */
export async function parseRdsMail(
  raw: Buffer,
  limits: MailLimits = DEFAULT_MAIL_LIMITS,
  options: ParseOptions = {},
): Promise<ParsedRdsMail> {
  const minBytes = options.leanMinBytes ?? LEAN_MIN_BYTES;
  const excised = raw.length >= minBytes ? exciseBase64Bodies(raw, minBytes) : undefined;
  precheckMail(excised?.view ?? raw, limits); // the view: the same verdict without a text copy of the whole mail
  if (excised) {
    // the stub in rds's own shape needs no mailparser (mail-fast.ts gives what it gives)
    const stub =
      parseRdsMailFast(excised.stub, limits.maxParts) ?? (await parseWithMailparser(excised.stub, limits).catch(() => undefined));
    const attachments = stub && restoreBodies(stub.attachments, excised.bodies);
    if (stub && attachments) {
      options.took?.('lean');
      return withAttachments(stub, attachments);
    }
  } else {
    const fast = parseRdsMailFast(raw, limits.maxParts);
    if (fast) {
      options.took?.('fast');
      return fast;
    }
  }
  options.took?.('full');
  return parseWithMailparser(raw, limits);
}

function withAttachments(mail: ParsedRdsMail, attachments: Map<string, Buffer>): ParsedRdsMail {
  const { armoredPayload: _, ...rest } = mail;
  const payload = attachments.get(PAYLOAD_ATTACHMENT);
  return { ...rest, ...(payload ? { armoredPayload: payload.toString('utf8') } : {}), attachments };
}

/** mailparser over the whole of `raw`, and rds's rules on what it found (exported for the tests that compare the parses). */
export async function parseWithMailparser(raw: Buffer, limits: MailLimits = DEFAULT_MAIL_LIMITS): Promise<ParsedRdsMail> {
  const { simpleParser } = await import('mailparser');
  let parsed: Awaited<ReturnType<typeof simpleParser>>;
  try {
    parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  } catch (error) {
    throw new SecurityError(REFUSAL.MALFORMED_MAIL, `mail cannot be parsed: ${(error as Error).message}`, { cause: error });
  }
  const from = parsed.from?.value[0]?.address;
  if (!from) throw new SecurityError(REFUSAL.MALFORMED_MAIL, 'mail has no From address');
  if ((parsed.from?.value.length ?? 0) > 1) throw new SecurityError(REFUSAL.MALFORMED_MAIL, 'mail has more than one From address');
  // mailparser keeps only the first of several From: lines; RFC 5322 §3.6 allows exactly one,
  // and a second one would let a mail pass the From filter with another sender beside it
  if (parsed.headerLines.filter((h) => h.key === 'from').length > 1) {
    throw new SecurityError(REFUSAL.MALFORMED_MAIL, 'mail has more than one From header');
  }
  if (parsed.attachments.length > limits.maxParts) {
    throw new SecurityError(REFUSAL.MALFORMED_MAIL, `mail has ${parsed.attachments.length} attachments (at most ${limits.maxParts})`);
  }
  const attachments = new Map<string, Buffer>();
  for (const a of parsed.attachments) {
    if (!a.filename) continue;
    if (attachments.has(a.filename)) {
      throw new SecurityError(REFUSAL.MALFORMED_MAIL, `mail carries two attachments named '${a.filename}'`);
    }
    attachments.set(a.filename, a.content);
  }
  const payload = attachments.get(PAYLOAD_ATTACHMENT);
  return {
    from,
    subject: parsed.subject ?? '',
    ...(parsed.messageId ? { messageId: parsed.messageId } : {}),
    ...(payload ? { armoredPayload: payload.toString('utf8') } : {}),
    attachments,
  };
}
