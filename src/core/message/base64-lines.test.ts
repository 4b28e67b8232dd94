import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64Lines, SharedBase64 } from './base64-lines.js';
import { composeMail } from './mail.js';

/** nodemailer's own wrapping, the reference. */
const reference = (bytes: Uint8Array) =>
  Buffer.from(
    Buffer.from(bytes)
      .toString('base64')
      .replace(/.{76}(?=.)/g, '$&\r\n'),
    'latin1',
  );

describe('base64Lines / SharedBase64', () => {
  it('writes 76-character lines joined by CRLF, none after the last', () => {
    // 58,368 bytes (1,024 lines) is one encoding step: around it and a few steps on
    for (const n of [0, 1, 56, 57, 58, 113, 114, 115, 1000, 58_367, 58_368, 58_369, 58_368 * 3 + 57, 58_368 * 3 + 58, 250_001]) {
      const bytes = randomBytes(n);
      expect(base64Lines(bytes).toString('latin1'), `${n} bytes`).toBe(reference(bytes).toString('latin1'));
    }
  });

  it('encodes prefix + body exactly as one encoding of the concatenation, for every prefix length', () => {
    for (const bodyLength of [0, 10, 57, 200, 5000]) {
      const shared = new SharedBase64(randomBytes(bodyLength));
      for (let p = 0; p <= 130; p++) {
        const prefix = randomBytes(p);
        const want = reference(Buffer.concat([prefix, shared.body])).toString('latin1');
        expect(shared.encode(prefix).toString('latin1'), `body ${bodyLength}, prefix ${p}`).toBe(want);
        expect(Buffer.concat(shared.encodeParts(prefix)).toString('latin1')).toBe(want);
      }
    }
  });

  it('composeMail with a pre-encoded attachment gives the mail nodemailer composes itself', async () => {
    const content = randomBytes(100_000);
    const input = {
      from: 'host@example.test',
      to: 'agent1@example.test',
      subject: 's',
      text: 't',
      type: 'update',
      payloadId: 'p1',
      armoredPayload: 'signed',
      date: new Date(0),
    };
    const plain = await composeMail({ ...input, attachments: [{ filename: 'update.rdsu', content }] });
    const encoded = await composeMail({
      ...input,
      encodedAttachments: [
        { filename: 'update.rdsu', base64: new SharedBase64(content.subarray(96)).encodeParts(content.subarray(0, 96)) },
      ],
    });
    const boundaries = (raw: Buffer) => raw.toString('latin1').replace(/_NmP-[0-9a-f]+-Part/g, 'BOUNDARY');
    expect(boundaries(encoded.raw)).toBe(boundaries(plain.raw));
  });
});
