/**
 * The lean path of parseRdsMail for large mails (issue 13: an update part mail is ~9.5 MB,
 * and mailparser spends ~85 MB and seconds of CPU streaming its base64 through small
 * chunks). Every long base64 body of the mail — a run of strict base64 lines that starts
 * after a blank line and ends at a `--` boundary line — is checked and decoded here in one
 * pass, straight into one Buffer, and replaced in a small stub copy of the mail by the
 * base64 of a random token. The stub is then parsed (headers, structure, the small parts)
 * exactly as any mail is: by mail-fast.ts when it has rds's own shape (the same result as
 * mailparser's, mail-fast.test.ts), else by mailparser; and an attachment whose content is
 * the token is given the decoded bytes back. A body counts only when that parse decoded the
 * token as the whole content of a named attachment; anything else (a body that is not strict base64,
 * not an attachment, a token not found exactly once) and the caller parses the full mail
 * the usual way: the lean path never accepts what the full parse would refuse, and gives
 * the same bytes (lean-mail.test.ts holds both to agreement).
 */
import { randomBytes } from 'node:crypto';

/** A base64 body this long (bytes of the mail) or longer is decoded by the lean path. */
export const LEAN_MIN_BYTES = 256 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const EQUALS = 0x3d;

export interface ExcisedBody {
  /** the random bytes whose base64 stands in the stub where the body was */
  token: Buffer;
  decoded: Buffer;
}

export interface ExcisedMail {
  stub: Buffer;
  /**
   * The mail with each body cut to its first 10 bytes, for precheckMail: a body holds no `:`
   * or `-`, so no header-like match starts in one, and one that runs into it (`Content-Type:`,
   * blank lines, `multipart/`) needs no more than its first 10 bytes; the header block is whole
   */
  view: Buffer;
  bodies: ExcisedBody[];
}

const VIEW_KEEP = 'multipart/'.length;

/** The mail with every long strict base64 body cut out and decoded, or undefined when it has none. */
export function exciseBase64Bodies(raw: Buffer, minBytes: number = LEAN_MIN_BYTES): ExcisedMail | undefined {
  const pieces: Buffer[] = [];
  const view: Buffer[] = [];
  const bodies: ExcisedBody[] = [];
  let kept = 0;
  let pos = 0;
  for (;;) {
    const start = nextBodyStart(raw, pos);
    if (start < 0) break;
    // the next line that starts with `--` (a boundary line, when the body is one of ours)
    const stop = raw.indexOf('\n--', start, 'latin1') + 1;
    if (stop === 0) break;
    pos = start; // not a body of ours: the next blank line may be before `stop` (a part that starts the multipart)
    if (stop - start < minBytes) continue;
    // the line break before a boundary belongs to the boundary (RFC 2046 §5.1.1)
    const end = stop - (raw[stop - 2] === CR ? 2 : 1);
    const decoded = decodeStrict(raw, start, end);
    if (!decoded) continue;
    const token = randomBytes(24);
    pieces.push(raw.subarray(kept, start), Buffer.from(token.toString('base64'), 'latin1'));
    view.push(raw.subarray(kept, Math.min(start + VIEW_KEEP, end)));
    bodies.push({ token, decoded });
    kept = end;
    pos = stop;
  }
  if (bodies.length === 0) return undefined;
  pieces.push(raw.subarray(kept));
  view.push(raw.subarray(kept));
  return { stub: Buffer.concat(pieces), view: Buffer.concat(view), bodies };
}

/** Where the text after the next blank line from `pos` starts (a part's body), or -1. */
function nextBodyStart(raw: Buffer, pos: number): number {
  const lf = raw.indexOf('\n\n', pos, 'latin1');
  const crlf = raw.indexOf('\n\r\n', pos, 'latin1');
  if (lf < 0 && crlf < 0) return -1;
  if (crlf < 0 || (lf >= 0 && lf < crlf)) return lf + 2;
  return crlf + 3;
}

/** The value of each byte of the base64 alphabet (RFC 4648 §4), -1 for any other byte. */
const ALPHABET = (() => {
  const table = new Int8Array(256).fill(-1);
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < letters.length; i++) table[letters.charCodeAt(i)] = i;
  return table;
})();

/**
 * raw[start, end) as strict base64 lines, decoded; undefined when not strict: every line
 * non-empty, of the alphabet only (no base64url `-` `_`, no space or control), a multiple
 * of 4 long (nodemailer writes 76), ended by LF or CRLF (no other CR); padding only as the
 * body's last one or two bytes.
 *
 * One pass over the bytes checks and decodes at once, quad by quad, straight into the
 * output: no text copy of the body (slices of it as strings were ~9 MB of V8 heap garbage
 * per part mail, which only a full collection frees), no second scan for the line layout
 * (lean-mail.test.ts holds it to mailparser's verdict and bytes).
 */
function decodeStrict(raw: Buffer, start: number, end: number): Buffer | undefined {
  const out = Buffer.allocUnsafe(((end - start) >>> 2) * 3);
  let o = 0;
  let i = start;
  while (i < end) {
    const lineStart = i;
    i = decodeQuads(raw, i, end, out, o);
    o += ((i - lineStart) >>> 2) * 3;
    if (i + 4 === end && raw[end - 1] === EQUALS) {
      // the padded last quad: `xx==` or `xxx=`
      const tail = decodePadded(raw, i, out, o);
      if (tail < 0) return undefined;
      o += tail;
      i = end;
    }
    if (i === lineStart) return undefined; // an empty line, or one that does not start with a quad
    if (i === end) break;
    if (raw[i] === CR) {
      if (i + 1 >= end || raw[i + 1] !== LF) return undefined;
      i += 2;
    } else if (raw[i] === LF) i += 1;
    else return undefined; // a byte outside the alphabet, or a line not a multiple of 4 long
  }
  return out.subarray(0, o);
}

/** Whole quads of the alphabet from `at` into out[o…]; where the first that is not one starts. */
function decodeQuads(raw: Buffer, at: number, end: number, out: Buffer, o: number): number {
  let i = at;
  while (i + 4 <= end) {
    const a = ALPHABET[raw[i] as number] as number;
    const b = ALPHABET[raw[i + 1] as number] as number;
    const c = ALPHABET[raw[i + 2] as number] as number;
    const d = ALPHABET[raw[i + 3] as number] as number;
    if ((a | b | c | d) < 0) break;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o] = v >>> 16;
    out[o + 1] = (v >>> 8) & 0xff;
    out[o + 2] = v & 0xff;
    o += 3;
    i += 4;
  }
  return i;
}

/** The padded quad at raw[at…at+4) (ending in `=`) into out[o…]: 1 or 2 bytes, or -1 when it is not `xx==` / `xxx=`. */
function decodePadded(raw: Buffer, at: number, out: Buffer, o: number): number {
  const a = ALPHABET[raw[at] as number] as number;
  const b = ALPHABET[raw[at + 1] as number] as number;
  if (a < 0 || b < 0) return -1;
  out[o] = (a << 2) | (b >> 4);
  if (raw[at + 2] === EQUALS) return 1;
  const c = ALPHABET[raw[at + 2] as number] as number;
  if (c < 0) return -1;
  out[o + 1] = ((b & 0x0f) << 4) | (c >> 2);
  return 2;
}

/**
 * The stub's attachments with each token given its decoded body back; undefined when a
 * token is not the content of exactly one named attachment (the caller parses in full).
 */
export function restoreBodies(attachments: Map<string, Buffer>, bodies: ExcisedBody[]): Map<string, Buffer> | undefined {
  const restored = new Map(attachments);
  for (const body of bodies) {
    const names = [...attachments].filter(([, content]) => content.equals(body.token)).map(([name]) => name);
    if (names.length !== 1) return undefined;
    restored.set(names[0] as string, body.decoded);
  }
  return restored;
}
