import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Loading the mail layer must not load the protocol libraries (a cron-started command that
// never sends mail should not pay for them). Any eager import of these fails the test.
vi.mock('nodemailer', () => {
  throw new Error('nodemailer was loaded');
});
vi.mock('imapflow', () => {
  throw new Error('imapflow was loaded');
});
vi.mock('smtp-server', () => {
  throw new Error('smtp-server was loaded');
});

const { openInbox, openSender } = await import('./index.js');

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'rds-mail-index-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('openSender / openInbox', () => {
  it('open the Maildir backend for maildir:// without loading any protocol library', async () => {
    const sender = await openSender(`maildir://${root}`);
    await sender.sendRaw({ from: 'host@example.test', to: ['agent1@example.test'] }, Buffer.from('Subject: hi\r\n\r\nx\r\n'));
    await sender.close();
    const inbox = await openInbox(`maildir://${root}`, { address: 'agent1@example.test' });
    const got = [];
    for await (const m of inbox.messages({})) got.push(m.raw.toString());
    await inbox.close();
    expect(got).toEqual(['Subject: hi\r\n\r\nx\r\n']);
  });

  it('refuse a URL of the wrong kind, with the password redacted', async () => {
    await expect(openSender('imap://u:topsecret@h')).rejects.toThrow(
      'imap://u:***@h:143 cannot be used for sending mail (expected smtp://, smtps:// or maildir:///)',
    );
    await expect(openInbox('smtps://u:topsecret@h')).rejects.toThrow('smtps://u:***@h:465 cannot be used for reading mail');
  });

  it('need the own address for a maildir inbox', async () => {
    await expect(openInbox(`maildir://${root}`)).rejects.toMatchObject({ code: 'MAIL_NO_ADDRESS', exitCode: 2 });
  });
});
