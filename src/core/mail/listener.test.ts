// The embedded listener in-process, with our nodemailer-based sender as its client.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MailListener, startMailListener } from './listener.js';
import { MaildirInbox } from './maildir.js';
import { createSmtpSender } from './smtp.js';
import type { InboxMessage, MailSender } from './types.js';
import { parseMailUrl, type ServerMailUrl } from './url.js';

const HOST = 'host@example.test';

// TEST ONLY: a throw-away self-signed certificate for localhost / 127.0.0.1 (its own CA),
// generated once with `openssl req -x509 -newkey ec ... -days 36500`. Protects nothing.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgA3Oitl+uwPwg6o0X
0MXMrH/5pUr5a1DgoxOPVbHLg96hRANCAAQv/dqk8q530OnORlG9qYCDaAvGawso
W5HEGdXglZtUyHXpPAqY1D192CLAMpuRoJcZmtXl7AzgWDxUH5y6gS2Y
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUSsQBTNidchP4zBXVCjS+QSv9EUwwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNDIxMDA1OFoYDzIxMjYxMDMx
MjEwMDU4WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQv/dqk8q530OnORlG9qYCDaAvGawsoW5HEGdXglZtUyHXpPAqY1D19
2CLAMpuRoJcZmtXl7AzgWDxUH5y6gS2Yo28wbTAdBgNVHQ4EFgQURofVWZsMg16B
MEt6KPMxuAMMxHUwHwYDVR0jBBgwFoAURofVWZsMg16BMEt6KPMxuAMMxHUwGgYD
VR0RBBMwEYIJbG9jYWxob3N0hwR/AAABMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDSAAwRQIgFhPKlTVHVbjLLTW2eRiOXjYutw1RfahBI42w9pdXupECIQDB
stDZalGDFKSSy7HQDbC4137HR5pBAUdRong3fVNVYQ==
-----END CERTIFICATE-----
`;

let root: string;
let listener: MailListener | undefined;
let sender: MailSender | undefined;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'rds-listener-'));
});
afterEach(async () => {
  await sender?.close();
  await listener?.close();
  sender = undefined;
  listener = undefined;
  await rm(root, { recursive: true, force: true });
});

function mail(subject: string, body = 'hello'): Buffer {
  return Buffer.from(`From: ${HOST}\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);
}

async function readAll(address: string): Promise<InboxMessage[]> {
  const out: InboxMessage[] = [];
  for await (const m of new MaildirInbox(root, address).messages({})) out.push(m);
  return out;
}

const url = (text: string) => parseMailUrl(text) as ServerMailUrl;

describe('mail listener → Maildir', () => {
  it('delivers a copy per recipient, byte for byte, over a pooled SMTP session', async () => {
    listener = await startMailListener({ root, fsync: false });
    expect(listener.host).toBe('127.0.0.1');
    sender = await createSmtpSender(url(`smtp://127.0.0.1:${listener.port}`));
    const raws = Array.from({ length: 20 }, (_, i) => mail(`m${i}`));
    await Promise.all(raws.map((raw) => sender?.sendRaw({ from: HOST, to: ['agent1@example.test', 'agent2@example.test'] }, raw)));
    for (const box of ['agent1@example.test', 'agent2@example.test']) {
      const got = await readAll(box);
      expect(got.map((m) => m.raw.toString()).sort()).toEqual(raws.map(String).sort());
    }
  });

  it('answers 552 to a mail over its SIZE limit and stores nothing', async () => {
    listener = await startMailListener({ root, maxMessageSize: 1000, fsync: false });
    sender = await createSmtpSender(url(`smtp://127.0.0.1:${listener.port}`), { maxMessageSize: 1_000_000 });
    const error = await sender.sendRaw({ from: HOST, to: ['agent1@example.test'] }, mail('big', 'x'.repeat(2000))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMTP_REJECTED', exitCode: 1, details: { responseCode: 552 } });
    expect(await readAll('agent1@example.test')).toEqual([]);
  });

  it('answers 552 after DATA when the client did not declare the size', async () => {
    listener = await startMailListener({ root, maxMessageSize: 1000, fsync: false });
    // A raw stream has no known length, so nodemailer cannot send SIZE= in MAIL FROM.
    const { Readable } = await import('node:stream');
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, ignoreTLS: true });
    try {
      const raw = Readable.from([mail('big', 'x'.repeat(5000))]);
      await expect(client.sendMail({ envelope: { from: HOST, to: ['agent1@example.test'] }, raw })).rejects.toMatchObject({
        responseCode: 552,
      });
    } finally {
      client.close();
    }
    expect(await readAll('agent1@example.test')).toEqual([]);
  });

  it('refuses a recipient that cannot name a mailbox (path traversal) with 553', async () => {
    listener = await startMailListener({ root, fsync: false });
    sender = await createSmtpSender(url(`smtp://127.0.0.1:${listener.port}`));
    // `/` is legal in a local part (RFC 5322 atext) but must not become a path separator.
    await expect(sender.sendRaw({ from: HOST, to: ['a/b@example.test'] }, mail('x'))).rejects.toMatchObject({
      code: 'SMTP_REJECTED',
      details: { responseCode: 553 },
    });
    // smtp-server's own syntax check already stops a local part starting with dots (501).
    await expect(sender.sendRaw({ from: HOST, to: ['../../etc@example.test'] }, mail('x'))).rejects.toMatchObject({
      code: 'SMTP_REJECTED',
    });
    expect(await readdir(root)).toEqual([]);
  });

  it('keeps to the recipients it was told to accept', async () => {
    listener = await startMailListener({ root, fsync: false, acceptRecipient: (a) => a === 'agent1@example.test' });
    sender = await createSmtpSender(url(`smtp://127.0.0.1:${listener.port}`));
    const error = await sender
      .sendRaw({ from: HOST, to: ['agent1@example.test', 'stranger@example.test'] }, mail('x'))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SMTP_REJECTED',
      details: { accepted: ['agent1@example.test'], rejected: ['stranger@example.test'], responseCode: 550 },
    });
    expect(await readAll('agent1@example.test')).toHaveLength(1);
  });

  it('with AUTH: accepts the right password, refuses a wrong one with exit 2', async () => {
    listener = await startMailListener({ root, fsync: false, auth: { user: 'host', password: 'pw' } });
    sender = await createSmtpSender(url(`smtp://host:pw@127.0.0.1:${listener.port}?tls=off`));
    await sender.sendRaw({ from: HOST, to: ['agent1@example.test'] }, mail('x'));
    expect(await readAll('agent1@example.test')).toHaveLength(1);

    const wrong = await createSmtpSender(url(`smtp://host:nope@127.0.0.1:${listener.port}?tls=off`));
    try {
      const error = await wrong.sendRaw({ from: HOST, to: ['agent1@example.test'] }, mail('y')).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SMTP_AUTH', exitCode: 2 });
      expect((error as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${listener.port} refused the login of host: .*535`));
      expect((error as Error).message).not.toContain('nope');
    } finally {
      await wrong.close();
    }
  });

  it('with STARTTLS + AUTH: sends when the certificate verifies against the given CA, refuses otherwise', async () => {
    listener = await startMailListener({
      root,
      fsync: false,
      auth: { user: 'host', password: 'pw' },
      tls: { key: TEST_KEY, cert: TEST_CERT },
    });
    sender = await createSmtpSender(url(`smtp://host:pw@127.0.0.1:${listener.port}`), { ca: TEST_CERT });
    await sender.sendRaw({ from: HOST, to: ['agent1@example.test'] }, mail('over tls'));
    expect(await readAll('agent1@example.test')).toHaveLength(1);

    const untrusting = await createSmtpSender(url(`smtp://host:pw@127.0.0.1:${listener.port}`));
    try {
      await expect(untrusting.sendRaw({ from: HOST, to: ['agent1@example.test'] }, mail('x'))).rejects.toMatchObject({
        code: 'SMTP_TLS',
        exitCode: 2,
      });
    } finally {
      await untrusting.close();
    }
  });

  it('refuses to bind beyond loopback without AUTH and TLS', async () => {
    await expect(startMailListener({ root, host: '0.0.0.0' })).rejects.toMatchObject({ code: 'LISTENER_UNSAFE', exitCode: 2 });
    await expect(startMailListener({ root, host: '0.0.0.0', auth: { user: 'u', password: 'p' } })).rejects.toThrow(/needs TLS/);
  });
});
