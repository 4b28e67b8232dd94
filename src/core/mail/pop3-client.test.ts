import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Pop3Client } from './pop3-client.js';
import { parseMailUrl, type ServerMailUrl } from './url.js';

let server: net.Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A scripted POP3 server on loopback: each command line gets the answer `script` gives. */
async function scripted(script: (line: string) => string | undefined, greeting = '+OK ready\r\n'): Promise<number> {
  const listening = net.createServer((socket) => {
    socket.write(greeting);
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      for (let i = buffered.indexOf('\r\n'); i >= 0; i = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 2);
        const answer = script(line);
        if (answer !== undefined) socket.write(answer);
      }
    });
    socket.on('error', () => {});
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return (listening.address() as net.AddressInfo).port;
}

const url = (port: number, extra = '') => parseMailUrl(`pop3://agent:pw-77@127.0.0.1:${port}${extra}`) as ServerMailUrl;

describe('Pop3Client against a scripted server', () => {
  it('plaintext sent together with the STLS +OK is refused, never read as if it came over TLS', async () => {
    const port = await scripted((line) =>
      line === 'CAPA' ? '+OK\r\nSTLS\r\nUIDL\r\n.\r\n' : line === 'STLS' ? '+OK begin TLS\r\n+OK\r\n+OK logged in\r\n' : undefined,
    );
    await expect(Pop3Client.open(url(port), { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'POP3_PROTOCOL' });
  });

  it('a server without STLS on pop3:// is a config error before the password is sent', async () => {
    const seen: string[] = [];
    const port = await scripted((line) => {
      seen.push(line);
      return line === 'CAPA' ? '+OK\r\nUIDL\r\n.\r\n' : '-ERR no\r\n';
    });
    await expect(Pop3Client.open(url(port), { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'POP3_TLS', exitCode: 2 });
    expect(seen.some((l) => l.startsWith('PASS'))).toBe(false);
  });

  it('a refused login never shows a password the server quoted back', async () => {
    const port = await scripted((line) =>
      line.startsWith('USER') ? '+OK\r\n' : line.startsWith('PASS') ? `-ERR [AUTH] bad password ${line.slice(5)}\r\n` : '-ERR\r\n',
    );
    const error = await Pop3Client.open(url(port, '?tls=off'), { timeoutMs: 2000 }).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'POP3_AUTH', exitCode: 2 });
    expect((error as Error).message).not.toContain('pw-77');
  });

  it('a silent server times out as transient, and being slow between commands is no timeout', async () => {
    const silent = await scripted(() => undefined, '');
    await expect(Pop3Client.open(url(silent, '?tls=off'), { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'POP3_UNREACHABLE',
      exitCode: 3,
    });
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const port = await scripted((line) =>
      line.startsWith('USER') || line.startsWith('PASS') || line.startsWith('DELE') || line === 'QUIT'
        ? '+OK\r\n'
        : line === 'UIDL'
          ? '+OK\r\n1 a\r\n.\r\n'
          : line === 'LIST'
            ? '+OK\r\n1 12 octets\r\n.\r\n'
            : '-ERR\r\n',
    );
    const client = await Pop3Client.open(url(port, '?tls=off'), { timeoutMs: 300 });
    expect(await client.listing()).toEqual([{ n: 1, uidl: 'a', size: 12 }]);
    await new Promise((r) => setTimeout(r, 700)); // rds busy with the mail: longer than the timeout, no command outstanding
    await client.dele(1);
    await client.quit();
  });
});
