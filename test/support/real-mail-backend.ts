// Real Postfix + Dovecot (provided by test/support/servers.ts) as a MailBackend.
import type { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type { MailBackend } from './mail-backends.js';
import { mailTestbed, withImapSession } from './testbed.js';

export function realMailBackend(): MailBackend {
  const tb = mailTestbed();
  const enc = (address: string) => encodeURIComponent(address);
  const imap = <T>(address: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> => withImapSession(address, fn);
  const count = (address: string) =>
    imap(address, async (c) => {
      const status = await c.status('INBOX', { messages: true });
      return status ? (status.messages ?? 0) : 0;
    });
  return {
    name: 'postfix+dovecot',
    hostAddress: tb.hostAddress,
    agentAddress: (n) => tb.agentAddress(n),
    urlsFor: (address) => ({
      smtp: `smtp://${enc(address)}:${tb.password}@127.0.0.1:${tb.submissionPort}`,
      imap: `imap://${enc(address)}:${tb.password}@127.0.0.1:${tb.imapPort}`,
      tlsCa: tb.caFile,
    }),
    deliverRaw: async (to, raw) => {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: tb.smtpPort, secure: false, ignoreTLS: true });
      try {
        await transport.sendMail({ envelope: { from: tb.hostAddress, to: [to] }, raw });
      } finally {
        transport.close();
      }
    },
    mailboxRaw: (address, folder) =>
      imap(address, async (client) => {
        if (!(await client.list()).some((m) => m.path === folder)) return [];
        const lock = await client.getMailboxLock(folder);
        try {
          const out: Buffer[] = [];
          for await (const m of client.fetch('1:*', { source: true })) if (m.source) out.push(m.source);
          return out;
        } finally {
          lock.release();
        }
      }),
    waitForMail: async (address, n = 1) => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        if ((await count(address)) >= n) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no mail for ${address} within 15 s`);
    },
    close: async () => {},
  };
}
