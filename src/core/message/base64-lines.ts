/**
 * Base64 in 76-character lines (RFC 2045 §6.8), byte for byte what nodemailer writes for an
 * attachment: lines joined by CRLF, none after the last.
 *
 * push-all mails one large encrypted body to many agents behind a short per-agent prefix
 * (~100 bytes of wrapped session key). Encoding 1.4 MB of base64 per mail cost more CPU than
 * sending it; `SharedBase64` encodes the body once and reuses it: each prefix is topped up
 * with the body's first bytes to whole lines (57 bytes each), so a mail's encoding is its
 * own few head lines followed by one cached encoding of the rest of the body.
 */
const LINE_CHARS = 76;
const LINE_BYTES = (LINE_CHARS / 4) * 3; // 57
const CRLF = Buffer.from('\r\n');

/** Bytes encoded per step: whole lines (a multiple of 57), so no large transient string (a 7 MB part was three 10 MB copies). */
const BLOCK_BYTES = LINE_BYTES * 1024;

export function base64Lines(bytes: Uint8Array): Buffer {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chars = Math.ceil(input.length / 3) * 4;
  const lines = Math.ceil(chars / LINE_CHARS);
  const out = Buffer.allocUnsafe(chars + Math.max(0, lines - 1) * 2);
  let to = 0;
  for (let from = 0; from < input.length; from += BLOCK_BYTES) {
    const b64 = input.subarray(from, Math.min(from + BLOCK_BYTES, input.length)).toString('base64');
    for (let at = 0; at < b64.length; at += LINE_CHARS) {
      if (to > 0) {
        out[to++] = 0x0d;
        out[to++] = 0x0a;
      }
      to += out.write(b64.slice(at, at + LINE_CHARS), to, 'latin1');
    }
  }
  return out;
}

export class SharedBase64 {
  private readonly tails = new Map<number, Buffer>();

  constructor(readonly body: Uint8Array) {}

  /** `base64Lines(prefix + body)`, the body's share encoded only once per prefix length mod 57. */
  encode(prefix: Uint8Array): Buffer {
    return Buffer.concat(this.encodeParts(prefix));
  }

  /** The same in pieces (the last one shared between calls: never modify it). */
  encodeParts(prefix: Uint8Array): Buffer[] {
    const borrow = (LINE_BYTES - (prefix.length % LINE_BYTES)) % LINE_BYTES;
    if (borrow >= this.body.length) return [base64Lines(Buffer.concat([prefix, this.body]))];
    let tail = this.tails.get(borrow);
    if (!tail) {
      tail = base64Lines(this.body.subarray(borrow));
      this.tails.set(borrow, tail);
    }
    if (prefix.length + borrow === 0) return [tail];
    return [base64Lines(Buffer.concat([prefix, this.body.subarray(0, borrow)])), CRLF, tail];
  }
}
