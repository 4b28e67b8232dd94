import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream.js';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../testing.js';
import { fastTransform, stuffChunk, useFastDotStuffing } from './smtp-dot-stuffing.js';

type Transform = (this: unknown, chunk: unknown, encoding: string, done: () => void) => void;
const proto = (DataStream as unknown as { prototype: { _transform: Transform } }).prototype;
/** nodemailer's own, kept before anything replaces it */
const original = proto._transform;

/** The chunks a DataStream pushes for these input chunks, with its counts, under `transform`. */
async function through(transform: Transform, chunks: Buffer[]) {
  const stream = new DataStream();
  (stream as unknown as { _transform: Transform })._transform = transform;
  const out: Buffer[] = [];
  stream.on('data', (b: Buffer) => out.push(Buffer.from(b)));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  for (const c of chunks) stream.write(c);
  stream.end();
  await ended;
  return { out: out.map((b) => b.toString('latin1')), inBytes: stream.inByteCount, outBytes: stream.outByteCount };
}

/** Bytes rich in what the rule looks at (CR, LF, dot), cut into chunks anywhere. */
const chunked = fc.array(fc.constantFrom(0x0d, 0x0a, 0x2e, 0x41, 0x2b, 0x20), { maxLength: 300 }).chain((bytes) =>
  fc.array(fc.nat({ max: bytes.length }), { maxLength: 6 }).map((cuts) => {
    const at = [0, ...[...new Set(cuts)].sort((a, b) => a - b), bytes.length];
    const buf = Buffer.from(bytes);
    return at.slice(1).map((end, i) => buf.subarray(at[i], end));
  }),
);

describe('SMTP dot-stuffing (nodemailer DataStream, faster)', () => {
  it('pushes the very chunks and counts nodemailer pushes, for any bytes cut anywhere', async () => {
    const runs = 600;
    const tally = caseTally<'changed' | 'same'>();
    await fc.assert(
      fc.asyncProperty(chunked, async (chunks) => {
        const want = await through(original, chunks);
        const got = await through(fastTransform as Transform, chunks);
        expect(got).toEqual(want);
        const input = Buffer.concat(chunks).toString('latin1');
        tally.count(want.out.join('').startsWith(input) ? 'same' : 'changed'); // changed: an insert in the data
      }),
      { numRuns: runs },
    );
    tally.atLeast('changed', 0.5, runs);
  });

  it('an rds mail (CRLF lines, base64, a dot line in the text) in 64 KiB chunks: the same bytes', async () => {
    const body = randomBytes(300_000).toString('base64').replace(/.{76}/g, '$&\r\n');
    const mail = Buffer.from(`Subject: x\r\n\r\n.hidden\r\n..two\r\nlast line\n${body}\r\n`, 'latin1');
    const chunks = Array.from({ length: Math.ceil(mail.length / 65_536) }, (_, i) => mail.subarray(i * 65_536, (i + 1) * 65_536));
    const want = await through(original, chunks);
    expect(await through(fastTransform as Transform, chunks)).toEqual(want);
    expect(want.out.join('')).toContain('\r\n..hidden\r\n...two\r\nlast line\r\n');
  });

  it('stuffChunk keeps the state between chunks as DataStream does', () => {
    const state = { inByteCount: 0, outByteCount: 0, lastByte: false as number | false };
    expect(stuffChunk(Buffer.from('.a\r'), state).toString('latin1')).toBe('..a\r');
    expect(stuffChunk(Buffer.from('.b\n'), state).toString('latin1')).toBe('\n..b\r\n');
    expect(state).toEqual({ inByteCount: 6, outByteCount: 10, lastByte: 0x0a });
  });

  it('useFastDotStuffing puts it in DataStream once', async () => {
    await useFastDotStuffing();
    await useFastDotStuffing();
    expect(proto._transform).toBe(fastTransform);
    proto._transform = original;
  });
});
