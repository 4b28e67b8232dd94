import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBody, Pop3ProtocolError, Pop3Reader, parseListing, parseStatus, unstuff } from './pop3-codec.js';

/** Mail-like bytes: CRLF lines, some starting with dots, some 8-bit. */
const lineArb = fc.oneof(
  fc.constantFrom('.', '..', '.x', '...', '', 'From: a@b', '\u00e9t\u00e9'),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, '')),
);
const bodyArb = fc.array(lineArb, { maxLength: 30 }).map((lines) => Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'utf8'));

/** Split a buffer into chunks at arbitrary cut points, as TCP may deliver it. */
function chunks(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(data.subarray(from, p));
    from = p;
  }
  out.push(data.subarray(from));
  return out.filter((c) => c.length > 0);
}

describe('Pop3Reader', () => {
  it('gives back every body exactly, however the bytes are cut, followed by the next status line', () => {
    fc.assert(
      fc.property(bodyArb, fc.array(fc.nat(), { maxLength: 8 }), (body, cuts) => {
        const wire = Buffer.concat([Buffer.from('+OK 3 octets\r\n'), encodeBody(body), Buffer.from('+OK next\r\n')]);
        const reader = new Pop3Reader();
        let status: ReturnType<Pop3Reader['status']>;
        let got: Buffer | undefined;
        let after: ReturnType<Pop3Reader['status']>;
        for (const chunk of chunks(wire, cuts)) {
          reader.push(chunk);
          status ??= reader.status();
          if (status && !got) got = reader.body(1_000_000);
          if (got && !after) after = reader.status();
        }
        expect(status).toEqual({ ok: true, text: '3 octets' });
        expect(got?.equals(body)).toBe(true);
        expect(after).toEqual({ ok: true, text: 'next' });
      }),
      { numRuns: 400 },
    );
  });

  it('unstuff undoes the stuffing of encodeBody', () => {
    fc.assert(
      fc.property(bodyArb, (body) => {
        const wire = encodeBody(body);
        expect(unstuff(wire.subarray(0, wire.length - 3)).equals(body)).toBe(true);
      }),
    );
  });

  it('refuses an endless status line and an oversized body instead of buffering them', () => {
    const reader = new Pop3Reader();
    reader.push(Buffer.alloc(600, 0x41));
    expect(() => reader.status()).toThrow(Pop3ProtocolError);
    const big = new Pop3Reader();
    big.push(Buffer.from('+OK\r\n'));
    big.status();
    big.push(Buffer.alloc(5000, 0x41));
    expect(() => big.body(1000)).toThrow(/larger than 1000 bytes/);
  });
});

describe('status and listings', () => {
  it('parses +OK and -ERR, refuses anything else', () => {
    expect(parseStatus('-ERR [AUTH] Authentication failed.')).toEqual({ ok: false, text: '[AUTH] Authentication failed.' });
    expect(() => parseStatus('* OK imap')).toThrow(Pop3ProtocolError);
  });

  it('UIDL lines: number, space, 1..70 printable characters', () => {
    expect([...parseListing(Buffer.from('1 000000017a1b2c3d\r\n2 x\r\n'), 'UIDL')]).toEqual([
      [1, '000000017a1b2c3d'],
      [2, 'x'],
    ]);
    expect(() => parseListing(Buffer.from('1 ../../etc\x1b[2J\r\n'), 'UIDL')).toThrow(/bad UIDL line/);
    expect(() => parseListing(Buffer.from(`1 ${'a'.repeat(71)}\r\n`), 'UIDL')).toThrow(/bad UIDL line/);
  });
});
