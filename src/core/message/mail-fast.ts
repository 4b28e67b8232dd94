/**
 * The MIME parse of rds's own mail shape, without mailparser (issue 14: mailparser's
 * streams cost more than a signature check per mail). It reads only the exact shape rds
 * composes (mail.ts, nodemailer): CRLF header lines, one plain From address, an ASCII Subject and
 * Message-ID, multipart/mixed with a quoted boundary, an optional first text/plain part,
 * then attachments named by a plain file name in canonical base64. Anything else, down to
 * one folded or repeated header, gives undefined and the caller parses with mailparser, so
 * both give the same ParsedRdsMail (test: mail-fast.test.ts, on composed and mutated mail).
 */
import type { ParsedRdsMail } from './mail.js';

const ADDRESS = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*$/;
const PRINTABLE = /^[\x20-\x7e]*$/;
const MESSAGE_ID = /^<[\x21-\x3d\x3f-\x7e]{1,250}>$/;
const MULTIPART = /^multipart\/mixed; boundary="([A-Za-z0-9'()+_,./:=?-]{1,70})"$/;
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BARE_EOL = /(?<!\r)\n|\r(?!\n)/;
const TOP_HEADERS = new Set(['from', 'subject', 'message-id', 'content-type']);

/** Header lines into name → values; undefined when a header we read is folded, or a line is not a header. */
function readHeaders(text: string, used: Set<string>): Map<string, string[]> | undefined {
  if (BARE_EOL.test(text)) return undefined; // a bare LF or CR ends a line (or the headers) for mailparser
  const headers = new Map<string, string[]>();
  let last = '';
  for (const line of text.split('\r\n')) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (used.has(last) || last === '') return undefined;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[A-Za-z0-9-]+$/.test(line.slice(0, colon))) return undefined;
    last = line.slice(0, colon).toLowerCase();
    headers.set(last, [...(headers.get(last) ?? []), line.slice(colon + 1).trim()]);
  }
  return headers;
}

/** The one value of a header, '' when absent; undefined when repeated. */
function one(headers: Map<string, string[]>, name: string): string | undefined {
  const values = headers.get(name) ?? [];
  return values.length > 1 ? undefined : (values[0] ?? '');
}

/** The body's parts between `--boundary` lines, or undefined when the layout is not the plain one. */
function splitParts(body: string, boundary: string): string[] | undefined {
  const open = `--${boundary}\r\n`;
  if (!body.startsWith(open)) return undefined;
  const delimiter = `\r\n--${boundary}`;
  const parts: string[] = [];
  let from = open.length;
  for (;;) {
    const at = body.indexOf(delimiter, from);
    if (at < 0) return undefined;
    parts.push(body.slice(from, at));
    const after = body.slice(at + delimiter.length, at + delimiter.length + 2);
    if (after === '\r\n') {
      from = at + delimiter.length + 2;
      continue;
    }
    if (after !== '--') return undefined;
    const rest = body.slice(at + delimiter.length + 2);
    if (rest !== '' && rest !== '\r\n') return undefined;
    // the boundary nowhere else (after a bare LF in a text part it would be a delimiter for mailparser)
    return body.split(`--${boundary}`).length === parts.length + 2 ? parts : undefined;
  }
}

/** One part: undefined (not the plain shape), 'text' (the leading text part) or a named attachment. */
function readPart(part: string, first: boolean): 'text' | [string, Buffer] | undefined {
  const end = part.indexOf('\r\n\r\n');
  if (end <= 0) return undefined;
  const headers = readHeaders(part.slice(0, end), new Set(['content-type', 'content-transfer-encoding', 'content-disposition']));
  if (!headers || [...headers.keys()].some((k) => !k.startsWith('content-')) || [...headers.values()].some((v) => v.length > 1))
    return undefined;
  const type = one(headers, 'content-type') as string;
  const encoding = one(headers, 'content-transfer-encoding') as string;
  const disposition = one(headers, 'content-disposition') as string;
  if (disposition === '') {
    return first && /^text\/plain(?:; charset=utf-8)?$/.test(type) && ['', '7bit', 'quoted-printable', 'base64'].includes(encoding)
      ? 'text'
      : undefined;
  }
  const name = /^attachment; filename=(.*)$/.exec(disposition)?.[1];
  if (!name || !NAME.test(name) || encoding !== 'base64') return undefined;
  if (!new RegExp(`^[a-z]+/[a-z0-9.+-]+(?:; charset=utf-8)?; name=${name.replace(/\./g, '\\.')}$`).test(type)) return undefined;
  const base64 = part.slice(end + 4).replace(/\r\n/g, '');
  if (!BASE64.test(base64)) return undefined;
  return [name, Buffer.from(base64, 'base64')];
}

export function parseRdsMailFast(raw: Buffer, maxParts: number): ParsedRdsMail | undefined {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end <= 0) return undefined;
  const headers = readHeaders(text.slice(0, end), TOP_HEADERS);
  if (!headers) return undefined;
  const [from, subject, messageId, type] = ['from', 'subject', 'message-id', 'content-type'].map((h) => one(headers, h));
  if (from === undefined || !ADDRESS.test(from) || subject === undefined || !PRINTABLE.test(subject) || subject.includes('=?'))
    return undefined;
  if (messageId === undefined || (messageId !== '' && !MESSAGE_ID.test(messageId))) return undefined;
  const boundary = MULTIPART.exec(type ?? '')?.[1];
  const parts = boundary ? splitParts(text.slice(end + 4), boundary) : undefined;
  if (!parts || parts.length > maxParts + 1) return undefined;
  const attachments = new Map<string, Buffer>();
  for (const [i, part] of parts.entries()) {
    const read = readPart(part, i === 0);
    if (read === undefined || (read !== 'text' && attachments.has(read[0]))) return undefined;
    if (read !== 'text') attachments.set(read[0], read[1]);
  }
  if (attachments.size > maxParts) return undefined;
  const payload = attachments.get('payload.asc');
  return {
    from,
    subject,
    ...(messageId ? { messageId } : {}),
    ...(payload ? { armoredPayload: payload.toString('utf8') } : {}),
    attachments,
  };
}
