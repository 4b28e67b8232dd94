/**
 * A mail in pieces (types.ts MailPieces) as the readable stream nodemailer sends as `raw`:
 * the pieces in order, cut into slices of at most 64 KiB that are views of them (nothing is
 * copied), read as the socket drains. A 10 MB part mail then costs the host its few KB of
 * head and tail, not a 10 MB buffer and its dot-stuffed copy per mail in flight (the DATA
 * transparency of smtp-dot-stuffing.ts copies only the slices it inserts into, and gives
 * the same bytes whatever the slicing: it carries the last byte across chunks as nodemailer
 * does).
 *
 * A stream can be read once. nodemailer's pool sends a mail again when its connection closed
 * mid-send (up to 5 times): with a stream that second read would carry only what was left.
 * So the second `pipe` of a PieceStream destroys it instead (and nodemailer refuses an
 * ended or destroyed stream, ESTREAM): the send fails, `wasResent` says why, and the SMTP
 * sender sends the mail again whole, from a fresh stream (smtp.ts).
 */
import { Readable } from 'node:stream';
import type { MailPieces } from './types.js';

const SLICE = 64 * 1024;

export class PieceStream extends Readable {
  private piece = 0;
  private at = 0;
  private pipes = 0;
  /** nodemailer asked for the mail a second time (its connection closed mid-send) */
  resendAsked = false;

  /** it was handed to a connection */
  get piped(): boolean {
    return this.pipes > 0;
  }

  constructor(private readonly mail: MailPieces) {
    super({ highWaterMark: SLICE });
  }

  override _read(): void {
    const { pieces } = this.mail;
    while (this.piece < pieces.length) {
      const p = pieces[this.piece] as Buffer;
      if (this.at >= p.length) {
        this.piece++;
        this.at = 0;
        continue;
      }
      const end = Math.min(p.length, this.at + SLICE);
      const slice = p.subarray(this.at, end);
      this.at = end;
      if (!this.push(slice)) return;
    }
    this.push(null);
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (++this.pipes > 1) {
      this.resendAsked = true;
      this.destroy(Object.assign(new Error('mail stream asked for again after its connection closed'), { code: 'ESTREAM' }));
      return destination;
    }
    return super.pipe(destination, options);
  }
}

/** Did this failed send end because nodemailer tried the (read once) stream a second time? */
export function wasResent(stream: PieceStream, error: unknown): boolean {
  return stream.resendAsked || (stream.piped && (error as { code?: string } | null)?.code === 'ESTREAM');
}
