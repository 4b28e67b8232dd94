// SMTP sender against in-process servers: size refusal, error mapping, TLS policy.
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { TransientError, UsageError } from '../errors.js';
import { checkMessageSize, createSmtpSender, DEFAULT_MAX_MESSAGE_SIZE } from './smtp.js';
import { parseMailUrl, type ServerMailUrl } from './url.js';

const ENVELOPE = { from: 'host@example.test', to: ['agent1@example.test'] };
const RAW = Buffer.from('Subject: x\r\n\r\nhello\r\n');
const url = (text: string) => parseMailUrl(text) as ServerMailUrl;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function fakeServer(onRcptTo: (address: string) => Error | undefined): Promise<number> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo: (address, _session, callback) => callback(onRcptTo(address.address)),
    onData: (stream, _session, callback) => {
      stream.resume();
      stream.on('end', () => callback());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.server.address() as net.AddressInfo).port;
}

const reply = (responseCode: number, message: string) => Object.assign(new Error(message), { responseCode });

describe('checkMessageSize', () => {
  it('passes up to the limit and refuses above it, naming both numbers', () => {
    expect(DEFAULT_MAX_MESSAGE_SIZE).toBe(10_240_000);
    expect(() => checkMessageSize(Buffer.alloc(10))).not.toThrow();
    expect(() => checkMessageSize(Buffer.alloc(100), 100)).not.toThrow();
    let error: unknown;
    try {
      checkMessageSize(Buffer.alloc(12_000_000));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'MAIL_TOO_LARGE', exitCode: 2 });
    expect((error as Error).message).toMatchInlineSnapshot(
      `"mail of 12000000 bytes (11.4 MiB) is larger than the limit of 10240000 bytes (9.8 MiB); not sent (make the update package smaller, or raise the mail size limit if every server on the way accepts it)"`,
    );
  });
});

describe('SMTP sender', () => {
  it('refuses an oversized mail before it even connects', async () => {
    const sender = await createSmtpSender(url(`smtp://127.0.0.1:${await closedPort()}`), { maxMessageSize: 10 });
    cleanups.push(() => sender.close());
    await expect(sender.sendRaw(ENVELOPE, RAW)).rejects.toMatchObject({ code: 'MAIL_TOO_LARGE' });
  });

  it('reports a closed port as transient (exit 3), naming host:port and not the password', async () => {
    const port = await closedPort();
    const sender = await createSmtpSender(url(`smtp://u:s3cret@127.0.0.1:${port}?tls=off`));
    cleanups.push(() => sender.close());
    const error = await sender.sendRaw(ENVELOPE, RAW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'SMTP_UNREACHABLE', exitCode: 3 });
    expect((error as Error).message).toBe(`SMTP server 127.0.0.1:${port} is unreachable: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain('s3cret');
  });

  it('reports an unknown host as transient', async () => {
    const sender = await createSmtpSender(url('smtp://no-such-host.invalid:25'));
    cleanups.push(() => sender.close());
    await expect(sender.sendRaw(ENVELOPE, RAW)).rejects.toMatchObject({ code: 'SMTP_UNREACHABLE', exitCode: 3 });
  });

  it.each([
    ['greets like an IMAP server', '* OK [CAPABILITY IMAP4rev1] Dovecot ready.'],
    ['greets like a POP3 server', '+OK Dovecot ready.'],
    ['answers HTTP', 'HTTP/1.1 400 Bad Request'],
  ])('reports a server that %s as a config error naming the port (exit 2)', async (_what, greeting) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.write(`${greeting}\r\n`);
      cleanups.push(async () => {
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as net.AddressInfo;
    const sender = await createSmtpSender(url(`smtp://127.0.0.1:${port}`), { timeoutMs: 2000 });
    cleanups.push(() => sender.close());
    const error = await sender.sendRaw(ENVELOPE, RAW).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMTP_NOT_SMTP', exitCode: 2 });
    expect((error as Error).message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} is not an SMTP server .*check the port`));
  });

  it('reports a server that accepts the connection but never greets as transient', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as net.AddressInfo;
    const sender = await createSmtpSender(url(`smtp://127.0.0.1:${port}`), { timeoutMs: 300 });
    cleanups.push(async () => {
      await sender.close();
      for (const socket of sockets) socket.destroy();
    });
    await expect(sender.sendRaw(ENVELOPE, RAW)).rejects.toMatchObject({ code: 'SMTP_UNREACHABLE', exitCode: 3 });
  });

  it('maps a 5xx recipient refusal to SMTP_REJECTED with the server reply', async () => {
    const port = await fakeServer(() => reply(550, '5.1.1 No such user'));
    const sender = await createSmtpSender(url(`smtp://127.0.0.1:${port}`));
    cleanups.push(() => sender.close());
    const error = await sender.sendRaw(ENVELOPE, RAW).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SMTP_REJECTED',
      exitCode: 1,
      details: { responseCode: 550, response: '550 5.1.1 No such user', rejected: ['agent1@example.test'] },
    });
    expect((error as Error).message).toBe(`SMTP server 127.0.0.1:${port} rejected the mail: 550 5.1.1 No such user`);
  });

  it('maps a 4xx reply (greylisting, full queue) to transient SMTP_DEFERRED', async () => {
    const port = await fakeServer(() => reply(451, '4.7.1 Greylisted, try again'));
    const sender = await createSmtpSender(url(`smtp://127.0.0.1:${port}`));
    cleanups.push(() => sender.close());
    await expect(sender.sendRaw(ENVELOPE, RAW)).rejects.toMatchObject({
      code: 'SMTP_DEFERRED',
      exitCode: 3,
      details: { responseCode: 451 },
    });
  });

  it('requires STARTTLS on smtp:// when it logs in, so the password never goes out in clear', async () => {
    const port = await fakeServer(() => undefined); // offers no STARTTLS
    const sender = await createSmtpSender(url(`smtp://u:pw@127.0.0.1:${port}`));
    cleanups.push(() => sender.close());
    const error = await sender.sendRaw(ENVELOPE, RAW).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMTP_TLS', exitCode: 2 });
    expect((error as Error).message).toMatch(
      /the server offers no STARTTLS: use smtps:\/\/ \(implicit TLS\), or \?tls=off for a loopback server only/,
    );
  });

  it('needs a password when a user is given', async () => {
    await expect(createSmtpSender(url('smtp://u@127.0.0.1'))).rejects.toMatchObject({ code: 'MAIL_NO_PASSWORD' });
  });
});
