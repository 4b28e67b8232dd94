// The two mail backends a flow test can run on, behind one small interface: real
// Postfix + Dovecot (the e2e and hostile projects) and the embedded maildir:// backend with
// its SMTP listener (any project, in-process, no servers).
import fs from 'node:fs';
import path from 'node:path';
import type { MailUrls } from './fleet.js';

export interface MailBackend {
  name: string;
  hostAddress: string;
  agentAddress(n: number): string;
  urlsFor(address: string): MailUrls;
  /** Put raw mail into a mailbox as the network would. */
  deliverRaw(to: string, raw: Buffer): Promise<void>;
  /** The raw mails in a folder of a mailbox ('INBOX', 'rds-processed', 'rds-quarantine'). */
  mailboxRaw(address: string, folder: string): Promise<Buffer[]>;
  /** Resolve once the inbox holds at least `count` mails (delivery may be asynchronous). */
  waitForMail(address: string, count?: number): Promise<void>;
  close(): Promise<void>;
}

/** The embedded backend: an SMTP listener on loopback delivering into Maildir folders. */
export async function maildirBackend(root: string): Promise<MailBackend> {
  const { startMailListener } = await import('../../src/core/mail/index.js');
  const { MaildirSender } = await import('../../src/core/mail/maildir.js');
  const { mailboxDir } = await import('../../src/core/mail/maildir-layout.js');
  const mailRoot = path.join(root, 'mail');
  fs.mkdirSync(mailRoot, { recursive: true });
  const listener = await startMailListener({ root: mailRoot });
  const sender = new MaildirSender(mailRoot, {});
  const files = (dir: string) =>
    ['new', 'cur'].flatMap((sub) => {
      const d = path.join(dir, sub);
      return fs.existsSync(d)
        ? fs
            .readdirSync(d)
            .sort()
            .map((f) => fs.readFileSync(path.join(d, f)))
        : [];
    });
  return {
    name: 'maildir',
    hostAddress: 'host@example.test',
    agentAddress: (n) => `agent${n}@example.test`,
    urlsFor: () => ({ smtp: `smtp://127.0.0.1:${listener.port}`, imap: `maildir://${mailRoot}` }),
    deliverRaw: (to, raw) => sender.sendRaw({ from: 'someone@example.test', to: [to] }, raw),
    mailboxRaw: async (address, folder) => {
      const box = mailboxDir(mailRoot, address);
      return files(folder === 'INBOX' ? box : path.join(box, `.${folder}`));
    },
    waitForMail: async () => {},
    close: () => listener.close(),
  };
}
