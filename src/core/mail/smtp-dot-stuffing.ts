/**
 * SMTP's DATA transparency (RFC 5321 §4.5.2), faster, byte for byte as nodemailer does it.
 *
 * nodemailer's DataStream (smtp-connection/data-stream.js) turns every bare CR and bare LF
 * into CRLF, doubles a dot at the start of a line (also after a bare CR: SMTP smuggling)
 * and ends the data with CRLF.CRLF. It looks at every byte in a JavaScript loop: for a
 * push-all of 1 MB update mails that loop was a third of the host's main thread (measured:
 * bench/mail.mjs with BENCH_MAIL_PROFILE). Only bytes next to a CR or LF (and a chunk's
 * first byte) can need an insert, so `stuffChunk` finds the CRs and LFs with
 * Buffer.indexOf and applies nodemailer's very rule, in its order, at those positions only;
 * the output (its bytes, its chunks, the byte counts) is the same (smtp-dot-stuffing.test.ts
 * runs both on the same random chunks). `useFastDotStuffing` puts it in place of
 * DataStream's `_transform` in this process, once; nothing else of nodemailer changes.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
// the bytes nodemailer inserts (shared: only ever copied by Buffer.concat)
const INSERT_LF = Buffer.from('\n');
const INSERT_LF_DOT = Buffer.from('\n.');
const INSERT_CR = Buffer.from('\r');
const INSERT_DOT = Buffer.from('.');

/** DataStream's state between chunks. */
export interface StuffState {
  inByteCount: number;
  outByteCount: number;
  /** the last byte of the previous chunk; false before the first */
  lastByte: number | false;
}

/** nodemailer's rule for the byte at `i` (its `prev` is the byte before, or the last chunk's last). */
function insertAt(chunk: Buffer, i: number, lastByte: number | false): Buffer | undefined {
  const byte = chunk[i];
  const prev = i ? chunk[i - 1] : lastByte;
  if (prev === CR && byte !== LF) return byte === DOT ? INSERT_LF_DOT : INSERT_LF;
  if (byte === LF && prev !== CR) return INSERT_CR;
  if (byte === DOT && (prev === LF || prev === false)) return INSERT_DOT;
  return undefined;
}

/**
 * One chunk through DataStream's `_transform`: what it pushes, with `state` updated as it
 * does. The rule is tried only where it can fire, in ascending order, each position once:
 * 0, each LF and the byte after it, the byte after each CR (a rule needs the byte to be LF,
 * or the byte before it to be CR or LF, or the chunk's start).
 */
export function stuffChunk(chunk: Buffer, state: StuffState): Buffer {
  const len = chunk.length;
  const lastByte = state.lastByte;
  state.inByteCount += len;
  const parts: Buffer[] = [];
  let length = 0;
  let lastPos = 0;
  let tried = -1;
  const consider = (i: number) => {
    if (i <= tried || i >= len) return;
    tried = i;
    const insert = insertAt(chunk, i, lastByte);
    if (!insert) return;
    if (i > lastPos) {
      parts.push(chunk.subarray(lastPos, i));
      length += i - lastPos;
    }
    parts.push(insert);
    length += insert.length;
    lastPos = i;
  };
  consider(0);
  let cr = chunk.indexOf(CR);
  let lf = chunk.indexOf(LF);
  while (cr >= 0 || lf >= 0) {
    if (lf >= 0 && (cr < 0 || lf < cr)) {
      consider(lf);
      consider(lf + 1);
      lf = chunk.indexOf(LF, lf + 1);
    } else {
      consider(cr + 1);
      cr = chunk.indexOf(CR, cr + 1);
    }
  }
  let out = chunk;
  if (parts.length > 0) {
    if (lastPos < len) {
      parts.push(chunk.subarray(lastPos));
      length += len - lastPos;
    }
    out = Buffer.concat(parts, length);
  }
  state.outByteCount += out.length;
  state.lastByte = chunk[len - 1] as number;
  return out;
}

type TransformFn = (this: StuffState & { push(b: Buffer): void }, chunk: unknown, encoding: string, done: () => void) => void;

/** DataStream's `_transform` on stuffChunk. */
export function fastTransform(this: StuffState & { push(b: Buffer): void }, chunk: unknown, _encoding: string, done: () => void): void {
  if (chunk && (chunk as { length: number }).length) {
    this.push(stuffChunk(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer), this));
  }
  done();
}

let installed: Promise<void> | undefined;

/** nodemailer's DataStream with stuffChunk, in this process (idempotent). */
export function useFastDotStuffing(): Promise<void> {
  installed ??= import('nodemailer/lib/smtp-connection/data-stream.js').then((m) => {
    const proto = (m.default as { prototype: { _transform: TransformFn } }).prototype;
    proto._transform = fastTransform;
  });
  return installed;
}
