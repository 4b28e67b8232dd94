import { describe, expect, it } from 'vitest';
import { toImapError } from './imap-session.js';
import { parseMailUrl, type ServerMailUrl } from './url.js';

const url = parseMailUrl('imaps://agent1%40example.test:hunter2@mail.example.test') as ServerMailUrl;
const failure = (message: string, props: Record<string, unknown>) => Object.assign(new Error(message), props);

describe('toImapError', () => {
  it.each([
    [failure('Command failed', { authenticationFailed: true, responseText: 'Authentication failed.' }), 'IMAP_AUTH', 2],
    [failure('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'IMAP_TLS', 2],
    [failure('Server does not support STARTTLS', { tlsFailed: true }), 'IMAP_TLS', 2],
    [failure('connect ECONNREFUSED 127.0.0.1:993', { code: 'ECONNREFUSED' }), 'IMAP_UNREACHABLE', 3],
    [failure('getaddrinfo ENOTFOUND mail.example.test', { code: 'ENOTFOUND' }), 'IMAP_UNREACHABLE', 3],
    [failure('Failed to receive greeting', { code: 'GREETING_TIMEOUT' }), 'IMAP_UNREACHABLE', 3],
    [failure('Connection not available', { code: 'NoConnection' }), 'IMAP_UNREACHABLE', 3],
    [failure('Command failed', { responseStatus: 'NO', responseText: '[OVERQUOTA] Quota exceeded' }), 'IMAP_COMMAND_FAILED', 1],
  ])('%s → %s (exit %i)', (error, code, exitCode) => {
    const mapped = toImapError(error, url);
    expect(mapped).toMatchObject({ code, exitCode, details: { server: 'mail.example.test:993' } });
    expect(mapped.message).toContain('mail.example.test:993');
    expect(mapped.message).not.toContain('hunter2');
  });
});

describe('openImapSession over imap:// (STARTTLS required)', () => {
  it('refuses a server that does not offer STARTTLS, before sending the password', async () => {
    const net = await import('node:net');
    const { openImapSession } = await import('./imap-session.js');
    const received: string[] = [];
    const server = net.createServer((socket) => {
      socket.on('data', (data) => {
        received.push(data.toString());
        const tag = data.toString().split(' ')[0];
        if (/CAPABILITY/i.test(data.toString())) socket.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`);
        else socket.write(`${tag} BAD unexpected\r\n`);
      });
      socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake server without STARTTLS\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    try {
      const plainUrl = parseMailUrl(`imap://agent1%40example.test:hunter2@127.0.0.1:${port}`) as ServerMailUrl;
      await expect(openImapSession(plainUrl, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'IMAP_TLS', exitCode: 2 });
      expect(received.join('')).not.toContain('hunter2');
    } finally {
      server.close();
    }
  });
});
