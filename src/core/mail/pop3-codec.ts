/**
 * The POP3 wire format (RFC 1939 §3), pure: no sockets. A server answers every command
 * with one status line (`+OK …` or `-ERR …`, CRLF-terminated); some answers go on with a
 * multi-line body, each line "dot-stuffed" (a line that starts with `.` gets one more `.`)
 * and the body ended by a line holding a single `.`. Mail is bytes: bodies stay Buffers
 * (8-bit content survives), and the end marker may arrive split across any TCP chunks.
 *
 * Limits against a hostile or broken server: a status line is at most 512 octets
 * (RFC 1939 §3, RFC 2449 §4), a body at most `maxBody` bytes; past either the reader
 * fails instead of buffering without end.
 */

export const MAX_STATUS_LINE = 512;

export interface Pop3Status {
  ok: boolean;
  /** the text after +OK / -ERR, without the CRLF */
  text: string;
}

export class Pop3ProtocolError extends Error {}

const CRLF = Buffer.from('\r\n');

/** Collects bytes from the socket and hands out whole status lines and bodies. */
export class Pop3Reader {
  private buffer: Buffer = Buffer.alloc(0);
  // chunks not yet joined to `buffer`: a 10 MB body in 16 KB TLS records is joined once, not
  // once per record (that would copy gigabytes)
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
  }

  get pending(): number {
    return this.buffer.length + this.chunkBytes;
  }

  private join(): void {
    if (this.chunks.length === 0) return;
    this.buffer = Buffer.concat([this.buffer, ...this.chunks]);
    this.chunks = [];
    this.chunkBytes = 0;
  }

  /** The next status line, or undefined until it has arrived whole. */
  status(): Pop3Status | undefined {
    this.join();
    const end = this.buffer.indexOf(CRLF);
    if (end < 0) {
      if (this.buffer.length > MAX_STATUS_LINE) throw new Pop3ProtocolError(`a status line longer than ${MAX_STATUS_LINE} octets`);
      return undefined;
    }
    if (end + 2 > MAX_STATUS_LINE) throw new Pop3ProtocolError(`a status line longer than ${MAX_STATUS_LINE} octets`);
    const line = this.buffer.subarray(0, end).toString('latin1');
    this.buffer = this.buffer.subarray(end + 2);
    return parseStatus(line);
  }

  /**
   * The body of a multi-line answer, dot-unstuffed, or undefined until its end (`.` alone
   * on a line) has arrived. The status line must have been taken first.
   */
  body(maxBody: number): Buffer | undefined {
    if (this.chunks.length > 0) {
      // look for the end only where it can be: the new bytes and the 4 before them
      const tail = this.buffer.subarray(Math.max(0, this.buffer.length - (END.length - 1)));
      const fresh = Buffer.concat([tail, ...this.chunks]);
      // when what is buffered is shorter than the tail, `fresh` starts at the body's first byte
      const seen = this.buffer.length < END.length && fresh.subarray(0, 3).equals(END_EMPTY);
      if (!seen && fresh.indexOf(END) < 0) {
        if (this.pending > maxBody + 1024) throw new Pop3ProtocolError(`a message larger than ${maxBody} bytes`);
        return undefined;
      }
      this.join();
    }
    // the body ends at "\r\n.\r\n", or at ".\r\n" when it is empty (the status line's CRLF
    // came before); a body line "." would have been stuffed to "..", so this is always the end
    if (this.buffer.subarray(0, 3).equals(END_EMPTY)) {
      this.buffer = this.buffer.subarray(3);
      return Buffer.alloc(0);
    }
    // scanned whole only when the end can be there: right after the status line, or once
    // the new chunks above showed it arrived
    const at = this.buffer.indexOf(END);
    if (at < 0) {
      if (this.buffer.length > maxBody + 1024) throw new Pop3ProtocolError(`a message larger than ${maxBody} bytes`);
      return undefined;
    }
    const stuffed = this.buffer.subarray(0, at + 2); // keep the last line's CRLF
    this.buffer = this.buffer.subarray(at + END.length);
    return unstuff(stuffed);
  }
}

const END = Buffer.from('\r\n.\r\n');
const END_EMPTY = Buffer.from('.\r\n');

export function parseStatus(line: string): Pop3Status {
  if (line.startsWith('+OK')) return { ok: true, text: line.slice(3).trimStart() };
  if (line.startsWith('-ERR')) return { ok: false, text: line.slice(4).trimStart() };
  throw new Pop3ProtocolError(`not a POP3 status line: ${JSON.stringify(line.slice(0, 60))}`);
}

/** Remove the extra `.` from each line that starts with `..` (RFC 1939 §3). */
export function unstuff(stuffed: Buffer): Buffer {
  if (stuffed.indexOf('\n.') < 0 && stuffed[0] !== 0x2e) return stuffed;
  const parts: Buffer[] = [];
  let lineStart = 0;
  let copyFrom = 0;
  while (lineStart < stuffed.length) {
    if (stuffed[lineStart] === 0x2e) {
      parts.push(stuffed.subarray(copyFrom, lineStart));
      copyFrom = lineStart + 1;
    }
    const nl = stuffed.indexOf(0x0a, lineStart);
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  parts.push(stuffed.subarray(copyFrom));
  return Buffer.concat(parts);
}

/** What a server sends for a body: dot-stuffed, CRLF before the end line, then `.\r\n`. For tests and the fake server. */
export function encodeBody(body: Buffer): Buffer {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    const nl = body.indexOf(0x0a, start);
    const end = nl < 0 ? body.length : nl + 1;
    const line = body.subarray(start, end);
    lines.push(line[0] === 0x2e ? Buffer.concat([Buffer.from('.'), line]) : line);
    start = end;
  }
  const joined = Buffer.concat(lines);
  const needsCrlf = joined.length > 0 && !joined.subarray(-2).equals(CRLF);
  return Buffer.concat([joined, needsCrlf ? CRLF : Buffer.alloc(0), END_EMPTY]);
}

/** `UIDL` and `LIST` answers: "n value" per line. */
export function parseListing(body: Buffer, what: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of body.toString('latin1').split('\r\n')) {
    if (line === '') continue;
    // RFC 1939: UIDL "n uid" (1-70 printable), LIST "n size" where text may follow the size
    const match = what === 'LIST' ? /^(\d{1,9}) (\d{1,12})(?: [\x20-\x7e]*)?$/.exec(line) : /^(\d{1,9}) ([\x21-\x7e]{1,70})$/.exec(line);
    if (!match) throw new Pop3ProtocolError(`bad ${what} line: ${JSON.stringify(line.slice(0, 80))}`);
    out.set(Number(match[1]), match[2] as string);
  }
  return out;
}
