// A mail in pieces streamed through the SMTP sender, against an in-process server: the same
// bytes arrive as for the joined buffer, and a connection closed mid-DATA sends it again whole.
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createSmtpSender } from './smtp.js';
import { PieceStream } from './smtp-stream.js';
import { parseMailUrl, type ServerMailUrl } from './url.js';

const ENVELOPE = { from: 'host@example.test', to: ['agent1@example.test'] };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server keeping every mail's DATA; `drop(n)` says whether to cut the n-th mail's connection mid-DATA. */
async function server(drop: (n: number) => boolean): Promise<{ port: number; mails: Buffer[]; started: () => number }> {
  const mails: Buffer[] = [];
  let started = 0;
  const smtp: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 20_000_000,
    onData: (stream, session, callback) => {
      const n = ++started;
      const chunks: Buffer[] = [];
      let cut = false;
      stream.on('data', (d: Buffer) => {
        chunks.push(d);
        if (!cut && drop(n) && chunks.length > 2) {
          cut = true;
          // the client's socket of this session, cut mid-DATA
          for (const c of (smtp as unknown as { connections: Set<{ id: string; _socket: net.Socket }> }).connections)
            if (c.id === session.id) c._socket.destroy();
        }
      });
      stream.on('end', () => {
        if (!cut) mails.push(Buffer.concat(chunks));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
  return { port: (smtp.server.address() as net.AddressInfo).port, mails, started: () => started };
}

/** A mail as head + a large shared body + tail, its body lines CRLF, the text with a bare LF (stuffed to CRLF on the wire). */
function pieces(): { pieces: Buffer[]; length: number } {
  const head = Buffer.from('Subject: part\r\nContent-Type: text/plain\r\n\r\nline one\nline two\r\n.starts with a dot\r\n');
  const body = Buffer.from(
    randomBytes(300_000)
      .toString('base64')
      .replace(/.{76}(?=.)/g, '$&\r\n'),
    'latin1',
  );
  const tail = Buffer.from('\r\n.\r\nend\n');
  return { pieces: [head, body, tail], length: head.length + body.length + tail.length };
}

describe('SMTP sender: a mail in pieces', () => {
  it('arrives byte for byte as the same mail sent as one buffer', async () => {
    const s = await server(() => false);
    const sender = await createSmtpSender(parseMailUrl(`smtp://127.0.0.1:${s.port}?tls=off`) as ServerMailUrl);
    cleanups.push(() => sender.close());
    const mail = pieces();
    await sender.sendPieces?.(ENVELOPE, mail);
    await sender.sendRaw(ENVELOPE, Buffer.concat(mail.pieces));
    expect(s.mails).toHaveLength(2);
    expect((s.mails[0] as Buffer).equals(s.mails[1] as Buffer)).toBe(true);
    expect((s.mails[0] as Buffer).includes('line one\r\nline two\r\n.starts with a dot')).toBe(true); // the server un-stuffs
  });

  it('a connection cut mid-DATA fails it as it fails the same mail as one buffer; the next send goes whole', async () => {
    const s = await server((n) => n <= 2);
    const sender = await createSmtpSender(parseMailUrl(`smtp://127.0.0.1:${s.port}?tls=off`) as ServerMailUrl);
    cleanups.push(() => sender.close());
    const mail = pieces();
    const streamed = await sender.sendPieces?.(ENVELOPE, mail).catch((e: unknown) => e);
    const whole = await sender.sendRaw(ENVELOPE, Buffer.concat(mail.pieces)).catch((e: unknown) => e);
    expect(streamed).toMatchObject({ code: 'SMTP_UNREACHABLE' });
    expect(whole).toMatchObject({ code: 'SMTP_UNREACHABLE' });
    await sender.sendPieces?.(ENVELOPE, mail);
    await sender.sendRaw(ENVELOPE, Buffer.concat(mail.pieces));
    expect(s.mails).toHaveLength(2);
    expect((s.mails[0] as Buffer).equals(s.mails[1] as Buffer)).toBe(true);
  });

  it('a stream piped a second time destroys itself instead of sending what is left', () => {
    const stream = new PieceStream({ pieces: [Buffer.from('abc')], length: 3 });
    const sink = { on: () => sink, once: () => sink, emit: () => true, write: () => true, end: () => sink };
    stream.pipe(sink as unknown as NodeJS.WritableStream);
    stream.on('error', () => {});
    stream.pipe(sink as unknown as NodeJS.WritableStream);
    expect(stream.resendAsked).toBe(true);
    expect(stream.destroyed).toBe(true);
  });
});
