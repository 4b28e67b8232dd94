// The lean parse of large mails (lean-mail.ts) against mailparser over the whole mail: the
// same sender, subject, id, payload and attachment bytes for every mail rds builds (as sent,
// and as a Maildir stores it: LF line ends, delivery headers on top), and the same result
// or the same refusal for rds mails with lines inserted, bytes flipped or cut short. The
// lean threshold is lowered so that small generated mails take the lean path; each
// property counts the cases that did (src/core/testing.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRdsError } from '../errors.js';
import { caseTally } from '../testing.js';
import { base64Lines } from './base64-lines.js';
import { exciseBase64Bodies } from './lean-mail.js';
import { composeMail, DEFAULT_MAIL_LIMITS, type MailLimits, type ParsedRdsMail, type ParseOptions, parseRdsMail } from './mail.js';

const LEAN = { leanMinBytes: 4 };
const FULL = { leanMinBytes: Number.POSITIVE_INFINITY };

type Outcome = { mail: ParsedRdsMail } | { code: string; message: string };

async function outcome(raw: Buffer, options: ParseOptions, limits?: MailLimits): Promise<Outcome> {
  try {
    return { mail: await parseRdsMail(raw, limits, options) };
  } catch (error) {
    if (!isRdsError(error)) throw error;
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
}

/** What a parse gave, comparable with toEqual (attachments as name → hex). */
function shown(o: Outcome) {
  if (!('mail' in o)) return o;
  const { attachments, ...rest } = o.mail;
  return { ...rest, attachments: [...attachments].map(([name, bytes]) => [name, bytes.toString('hex')]) };
}

const NAMES = ['update.part', 'update.rdsu', 'versions.txt', 'notes.bin'];

const mailInput = fc.record({
  subject: fc.string({ maxLength: 40 }),
  text: fc.string({ maxLength: 200 }),
  payload: fc.string({ minLength: 1, maxLength: 400 }).map((s) => `-----BEGIN PGP SIGNED MESSAGE-----\n\n${s}`),
  attachments: fc.array(fc.record({ name: fc.constantFrom(...NAMES), bytes: fc.uint8Array({ maxLength: 3000 }) }), {
    maxLength: 3,
  }),
  encoded: fc.boolean(),
  lf: fc.boolean(),
  delivery: fc.boolean(),
});

type MailInput = typeof mailInput extends fc.Arbitrary<infer T> ? T : never;

async function build(input: MailInput): Promise<Buffer> {
  const named = [...new Map(input.attachments.map((a) => [a.name, Buffer.from(a.bytes)] as const)).entries()];
  const { raw } = await composeMail({
    from: 'host@example.test',
    to: 'agent1@example.test',
    subject: input.subject,
    text: input.text,
    type: 'update-part',
    payloadId: 'p-1',
    armoredPayload: input.payload,
    ...(input.encoded
      ? { encodedAttachments: named.map(([filename, bytes]) => ({ filename, base64: base64Lines(bytes) })) }
      : { attachments: named.map(([filename, content]) => ({ filename, content })) }),
  });
  let mail = raw;
  if (input.delivery)
    mail = Buffer.concat([Buffer.from('Return-Path: <host@example.test>\r\nDelivered-To: agent1@example.test\r\n'), mail]);
  if (input.lf) mail = Buffer.from(mail.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  return mail;
}

describe('the lean parse of large mails', () => {
  it('gives what mailparser gives for every mail rds builds', async () => {
    const t = caseTally<'lean'>();
    const numRuns = 100;
    await fc.assert(
      fc.asyncProperty(mailInput, async (input) => {
        const raw = await build(input);
        const lean = await outcome(raw, { ...LEAN, took: (way) => way === 'lean' && t.count('lean') });
        expect('mail' in lean, JSON.stringify(shown(lean))).toBe(true);
        expect(shown(lean)).toEqual(shown(await outcome(raw, FULL)));
      }),
      { numRuns },
    );
    t.atLeast('lean', 0.8, numRuns);
  }, 120_000);

  it('refuses what mailparser refuses, and parses the rest alike, for rds mails with lines inserted, bytes flipped, cut short', async () => {
    const t = caseTally<'lean'>();
    const numRuns = 150;
    const inserted = fc.constantFrom(
      'From: evil@attacker.test\r\n',
      'Content-Type: multipart/mixed; boundary="b0"\r\n',
      'Content-Transfer-Encoding: quoted-printable\r\n',
      'Content-Transfer-Encoding: 7bit\r\n',
      'Content-Disposition: inline\r\n',
      '----_NmP-\r\n',
      '\r\n',
      '\r',
      '=',
      '-_',
      'QUJD\r\n',
      '\0\xff',
    );
    const mutation = fc.record({
      input: mailInput.map((m) => ({ ...m, attachments: [{ name: 'update.part', bytes: new Uint8Array(600).fill(9) }, ...m.attachments] })),
      inserts: fc.array(fc.tuple(fc.nat(), inserted), { maxLength: 3 }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ input, inserts, flips, cut }) => {
        let mail = await build(input);
        for (const [at, text] of inserts) {
          const i = at % mail.length;
          mail = Buffer.concat([mail.subarray(0, i), Buffer.from(text, 'latin1'), mail.subarray(i)]);
        }
        for (const [at, x] of flips) mail[at % mail.length] = (mail[at % mail.length] as number) ^ x;
        if (cut !== undefined) mail = mail.subarray(0, cut % mail.length);
        // at most 2 multiparts: an inserted Content-Type line is refused by the precheck
        const limits = { ...DEFAULT_MAIL_LIMITS, maxMimeDepth: 2 };
        const lean = await outcome(mail, { ...LEAN, took: (way) => way === 'lean' && t.count('lean') }, limits);
        t.count('mail' in lean ? 'decoded' : 'refused');
        expect(shown(lean)).toEqual(shown(await outcome(mail, FULL, limits)));
      }),
      { numRuns },
    );
    t.atLeast('lean', 0.15, numRuns);
    t.atLeast('decoded', 0.3, numRuns);
    t.atLeast('refused', 0.05, numRuns);
  }, 120_000);

  it('decodes a body of lines that are not a multiple of 4 long, or with padding inside, only through mailparser', () => {
    const head = 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n';
    const mail = (body: string) => Buffer.from(`${head}${body}\r\n--b0--\r\n`, 'latin1');
    expect(exciseBase64Bodies(mail('QUJDRA==\r\nQUJD'), 4)).toBeUndefined();
    expect(exciseBase64Bodies(mail('QUJDR\r\nEFC'), 4)).toBeUndefined();
    // after an empty line only the rest is cut: mailparser decodes the token inside a longer body, not alone
    expect(exciseBase64Bodies(mail('QUJD\r\n\r\nQUJD'), 4)?.bodies.map((b) => b.decoded.toString())).toEqual(['ABC']);
    expect(exciseBase64Bodies(mail('QUJD\rQUJD'), 4)).toBeUndefined();
    expect(exciseBase64Bodies(mail('QU-D'), 4)).toBeUndefined();
    expect(exciseBase64Bodies(mail('QUJD\r\nQUI='), 4)?.bodies.map((b) => b.decoded.toString())).toEqual(['ABCAB']);
  });

  it('takes no body with a byte outside the alphabet in a line of the right length (the decoder would skip it, or read base64url)', () => {
    const head = 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n';
    const mail = (body: string) => Buffer.from(`${head}${body}\r\n--b0--\r\n`, 'latin1');
    expect(exciseBase64Bodies(mail('QUJDQUJD\r\nQUJD'), 4)?.bodies.map((b) => b.decoded.toString())).toEqual(['ABCABCABC']);
    for (const bad of ['.', ' ', '\t', '\0', '\xff', '\x80', '-', '_', '!', '\x0b', '\x0c', '"']) {
      for (const at of [1, 5, 9]) {
        const body = 'QUJDQUJD\r\nQUJD'.split('');
        body[at + (at >= 8 ? 2 : 0)] = bad;
        expect(exciseBase64Bodies(mail(body.join('')), 4), `${JSON.stringify(bad)} at ${at}`).toBeUndefined();
      }
      expect(exciseBase64Bodies(mail(`QUJDQUJD\r\nQU${bad}=`), 4), `${JSON.stringify(bad)} before the padding`).toBeUndefined();
    }
  });

  it("decodes exactly what the decoder it replaced decoded (Node's base64 over text slices, the line layout checked apart)", () => {
    // the reference: the check and decode lean-mail.ts did before its one-pass decoder
    const reference = (body: Buffer): Buffer | undefined => {
      const eq = body.indexOf(0x3d);
      if (eq >= 0 && (eq < body.length - 2 || body[body.length - 1] !== 0x3d)) return undefined;
      if (!/[A-Za-z0-9+/]/.test(String.fromCharCode(body[0] ?? 0)) || body.includes(0x2d) || body.includes(0x5f)) return undefined;
      let chars = 0;
      const text = body.toString('latin1');
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      for (const [i, line] of lines.entries()) {
        const last = i === lines.length - 1 && !text.endsWith('\n');
        const bare = line.endsWith('\r') && !last ? line.slice(0, -1) : line;
        if (bare.includes('\r') || bare.length === 0 || bare.length % 4 !== 0) return undefined;
        chars += bare.length;
      }
      const expected = (chars / 4) * 3 - (eq < 0 ? 0 : body.length - eq);
      const out = Buffer.from(text, 'base64');
      return out.length === expected ? out : undefined;
    };
    const head = 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n';
    const t = caseTally<'skipped'>();
    const numRuns = 400;
    const edit = fc.tuple(
      fc.nat(),
      fc.constantFrom('=', '==', '\r', '\n', '\r\n', '-', '_', ' ', '.', '\xff', 'Q', 'QU', 'QUJD', ''),
      fc.boolean(),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 30 }),
        fc.boolean(),
        fc.array(edit, { maxLength: 3 }),
        (bytes, quads, lf, edits) => {
          const b64 = Buffer.from(bytes).toString('base64');
          let body = (b64.match(new RegExp(`.{1,${quads * 4}}`, 'g')) ?? []).join(lf ? '\n' : '\r\n');
          for (const [at, text, replace] of edits) {
            const i = at % (body.length + 1);
            body = body.slice(0, i) + text + body.slice(replace ? i + 1 : i);
          }
          // a blank line (or one at the start) or a `--` line cuts the body elsewhere: the excision's
          // business, the same before and after (tested above); here the decoder alone is compared
          if (body.length === 0 || /^\r?\n|\n\r?\n|\n--/.test(body)) {
            t.count('skipped');
            return;
          }
          const mail = Buffer.from(`${head}${body}\r\n--b0--\r\n`, 'latin1');
          const ours = exciseBase64Bodies(mail, 4)?.bodies[0]?.decoded;
          const theirs = reference(Buffer.from(body, 'latin1'));
          t.note(ours);
          expect(ours?.toString('hex')).toEqual(theirs?.toString('hex'));
        },
      ),
      { numRuns },
    );
    // ~30% decoded, ~70% refused (binomial, 400 runs: a floor of half is over 6 deviations off)
    t.atLeast('decoded', 0.15, numRuns);
    t.atLeast('refused', 0.35, numRuns);
  });

  it('counts a multipart type that runs into a body (Content-Type:, blank line, multipart/…) as the full precheck does', async () => {
    const head = 'From: h@example.test\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n--b0\r\n';
    const part = 'Content-Disposition: attachment; filename=x.bin\r\nContent-Transfer-Encoding: base64\r\nContent-Type:\r\n\r\n';
    const raw = Buffer.from(`${head}${part}multipart/AA\r\n${'QUJD'.repeat(19)}\r\n--b0--\r\n`, 'latin1');
    expect(exciseBase64Bodies(raw, 4)?.bodies).toHaveLength(1);
    const limits = { ...DEFAULT_MAIL_LIMITS, maxMimeDepth: 1 };
    const lean = shown(await outcome(raw, LEAN, limits));
    expect(lean).toMatchObject({ code: 'MALFORMED_MAIL', message: 'mail nests 2 multipart parts (at most 1)' });
    expect(lean).toEqual(shown(await outcome(raw, FULL, limits)));
  });
});
