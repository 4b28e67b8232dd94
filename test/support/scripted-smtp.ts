// A tiny SMTP server (the smtp-server package, in-process, loopback) whose answers a test
// scripts: refuse the login (535), defer (451) or refuse a recipient for good (550), or
// deliver into the Maildir root the agents read through maildir:// (so a real flow goes on).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface Reply {
  code: number;
  text: string;
}

export interface ScriptedSmtp {
  port: number;
  url(user?: string): string;
  /** what the server does now; change it between commands */
  mode: { login: 'accept' | 'refuse'; rcpt: (address: string) => Reply | undefined };
  /** mails delivered to ADDRESS so far */
  delivered(address: string): number;
  close(): Promise<void>;
}

const smtpError = (r: Reply) => Object.assign(new Error(r.text), { responseCode: r.code });

export async function startScriptedSmtp(mailRoot: string, password: string): Promise<ScriptedSmtp> {
  const { MaildirSender } = await import('../../src/core/mail/maildir.js');
  fs.mkdirSync(mailRoot, { recursive: true });
  const sender = new MaildirSender(mailRoot, {});
  const counts = new Map<string, number>();
  const mode: ScriptedSmtp['mode'] = { login: 'accept', rcpt: () => undefined };
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (mode.login === 'accept' && auth.password === password) callback(null, { user: auth.username });
      else callback(smtpError({ code: 535, text: '5.7.8 Authentication credentials invalid' }));
    },
    onRcptTo(address, _session, callback) {
      const reply = mode.rcpt(address.address);
      callback(reply ? smtpError(reply) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        sender.sendRaw({ from, to }, Buffer.concat(chunks)).then(
          () => {
            for (const t of to) counts.set(t, (counts.get(t) ?? 0) + 1);
            callback(null, 'Delivered');
          },
          (e: Error) => callback(e),
        );
      });
    },
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as net.AddressInfo).port)),
  );
  return {
    port,
    url: (user) => `smtp://${user ? `${encodeURIComponent(user)}@` : ''}127.0.0.1:${port}?tls=off`,
    mode,
    delivered: (address) => counts.get(address) ?? 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A TCP server that greets like an IMAP server: an smtp URL pointing at an IMAP port. */
export async function startImapLookalike(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.write('* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n');
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Point a node's config at another SMTP URL (the file keeps its mode). */
export function setSmtp(configFile: string, url: string): void {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  config.smtp = url;
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
}

export const mailRootOf = (root: string) => path.join(root, 'mail');
