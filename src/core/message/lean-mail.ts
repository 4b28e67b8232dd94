/**
 * The lean path of parseRdsMail for large mails (issue 13: an update part mail is ~9.5 MB,
 * and mailparser spends ~85 MB and seconds of CPU streaming its base64 through small
 * chunks). Every long base64 body of the mail — a run of strict base64 lines that starts
 * after a blank line and ends at a `--` boundary line — is decoded here, in 1 MB slices,
 * straight into one Buffer, and replaced in a small stub copy of the mail by the base64 of
 * a random token. mailparser then parses the stub (headers, structure, the small parts)
 * exactly as it parses any mail, and an attachment whose content is the token is given the
 * decoded bytes back. A body counts only when mailparser itself decoded the token as the
 * whole content of a named attachment; anything else (a body that is not strict base64,
 * not an attachment, a token not found exactly once) and the caller parses the full mail
 * the usual way: the lean path never accepts what the full parse would refuse, and gives
 * the same bytes (lean-mail.test.ts holds both to agreement).
 */
import { randomBytes } from 'node:crypto';

/** A base64 body this long (bytes of the mail) or longer is decoded by the lean path. */
export const LEAN_MIN_BYTES = 256 * 1024;

/** under V8's external-string size (~1 MB): the slices' text is V8 heap, not malloc'd memory V8 frees late */
const SLICE = 512 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const UNDERSCORE = 0x5f;
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

/**
 * raw[start, end) as strict base64 lines, decoded; undefined when not strict: every line
 * non-empty, of the alphabet only, a multiple of 4 long (nodemailer writes 76), ended by LF
 * or CRLF (no other CR); padding only as the body's last one or two bytes.
 *
 * The alphabet is checked through the decoder's own count instead of a scan of every byte
 * (a regex over 67 MB of base64 cost ~0.1 s): Node's base64 decoder skips any byte outside
 * its alphabet (spaces, controls, bytes ≥ 0x80, `.`, …) and stops at a `=`, so such a byte
 * always leaves fewer decoded bytes than the lines' length promises; its alphabet also holds
 * base64url's `-` and `_`, which are looked for on their own (lean-mail.test.ts holds all of
 * it to mailparser's verdict).
 */
function decodeStrict(raw: Buffer, start: number, end: number): Buffer | undefined {
  const body = raw.subarray(start, end);
  const eq = body.indexOf(EQUALS);
  if (eq >= 0 && (eq < body.length - 2 || body[body.length - 1] !== EQUALS)) return undefined;
  if (!isAlphabet(body[0]) || body.indexOf(DASH) >= 0 || body.indexOf(UNDERSCORE) >= 0) return undefined;
  const chars = strictLines(raw, start, end);
  if (chars < 0) return undefined;
  const expected = (chars / 4) * 3 - (eq < 0 ? 0 : body.length - eq);
  const out = Buffer.allocUnsafe(expected);
  let written = 0;
  for (let at = start; at < end; ) {
    // whole lines only (each a multiple of 4 long): every slice decodes on its own;
    // Node's base64 decoder skips the line breaks
    let to = Math.min(end, at + SLICE);
    if (to < end) to = raw.lastIndexOf(LF, to - 1) + 1;
    if (to <= at) to = end;
    written += out.write(raw.toString('latin1', at, to), written, 'base64');
    at = to;
  }
  return written === expected ? out : undefined;
}

/**
 * How many base64 characters raw[start, end) holds (its line breaks not counted), or -1
 * unless every line is non-empty and a multiple of 4 long and a CR comes only before an LF.
 */
function strictLines(raw: Buffer, start: number, end: number): number {
  let chars = 0;
  let cr = raw.indexOf(CR, start);
  for (let from = start; from < end; ) {
    let lf = raw.indexOf(LF, from);
    if (lf < 0 || lf > end) lf = end;
    if (cr >= 0 && cr < lf) {
      if (cr !== lf - 1 || lf === end) return -1;
      cr = raw.indexOf(CR, lf);
    }
    const len = (raw[lf - 1] === CR ? lf - 1 : lf) - from;
    if (len === 0 || len % 4 !== 0) return -1;
    chars += len;
    from = lf + 1;
  }
  return chars;
}

function isAlphabet(byte: number | undefined): boolean {
  if (byte === undefined) return false;
  return (
    (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2b || byte === 0x2f
  );
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
