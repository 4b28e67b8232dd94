/**
 * A small POP3 client (RFC 1939, STLS from RFC 2595, CAPA and response codes from RFC 2449
 * and RFC 3206): one command at a time, bodies as bytes. Written here rather than taken
 * from npm: the one maintained package (node-pop3) has no STLS, turns bodies into strings
 * and looks for the end marker only at the end of each TCP chunk.
 *
 * TLS policy, as for IMAP (url.ts): `pop3s://` is implicit TLS, `pop3://` must upgrade with
 * STLS before the password is sent (a server that offers no STLS is refused, exit 2),
 * `?tls=off` is plaintext for a loopback server only. Certificates are always verified.
 *
 * Failures, sorted for the operator: nothing answering, a dropped connection, a timeout
 * or a maildrop locked by another session (`[IN-USE]`) are transient (exit 3); a refused
 * login (`[AUTH]`, or any -ERR to PASS) and a certificate that does not verify are config
 * problems (exit 2). The password never appears in an error or a log line.
 */
import net from 'node:net';
import tls from 'node:tls';
import { TransientError, UsageError } from '../errors.js';
import { classifyConnectionError, describeCause } from './failure.js';
import { Pop3ProtocolError, Pop3Reader, type Pop3Status, parseListing } from './pop3-codec.js';
import { tlsOptions } from './tls-options.js';
import { redactMailUrl, type ServerMailUrl, serverAddress } from './url.js';

export interface Pop3ConnectOptions {
  ca?: string | Buffer;
  timeoutMs?: number;
  /** the largest message RETR will take (bigger ones are refused by size before download) */
  maxMessageSize?: number;
}

interface Waiter {
  multiline: boolean;
  status?: Pop3Status;
  resolve: (value: { status: Pop3Status; body?: Buffer }) => void;
  reject: (error: Error) => void;
}

export class Pop3Client {
  private socket: net.Socket | tls.TLSSocket;
  private reader = new Pop3Reader();
  private waiter: Waiter | undefined;
  private failure: Error | undefined;
  private readonly maxBody: number;

  private constructor(
    private readonly url: ServerMailUrl,
    socket: net.Socket | tls.TLSSocket,
    private readonly options: Pop3ConnectOptions,
  ) {
    this.socket = socket;
    this.maxBody = options.maxMessageSize ?? 10_240_000;
    this.attach(socket);
  }

  /** Connect, read the greeting, upgrade to TLS where the URL says so, and log in. */
  static async open(url: ServerMailUrl, options: Pop3ConnectOptions = {}): Promise<Pop3Client> {
    const socket = await connectSocket(url, options);
    const client = new Pop3Client(url, socket, options);
    try {
      const greeting = (await client.await(false)).status;
      if (!greeting.ok)
        throw new TransientError('POP3_UNAVAILABLE', `POP3 server ${serverAddress(url)} refused the session: ${clean(greeting.text)}`);
      if (url.tls === 'starttls') await client.startTls();
      if (url.user !== undefined) await client.login(url.user, url.password ?? '');
      return client;
    } catch (error) {
      client.destroy();
      throw error;
    }
  }

  /** UIDL and LIST together: message number → {uidl, size}. */
  async listing(): Promise<{ n: number; uidl: string; size: number }[]> {
    const uidl = parseListing(await this.multi('UIDL'), 'UIDL');
    const sizes = parseListing(await this.multi('LIST'), 'LIST');
    const out: { n: number; uidl: string; size: number }[] = [];
    for (const [n, id] of uidl) {
      const size = Number(sizes.get(n));
      if (!Number.isSafeInteger(size)) throw this.protocol(new Pop3ProtocolError(`LIST has no size for message ${n}`));
      out.push({ n, uidl: id, size });
    }
    return out.sort((a, b) => a.n - b.n);
  }

  async retr(n: number): Promise<Buffer> {
    return this.multi(`RETR ${n}`);
  }

  async dele(n: number): Promise<void> {
    await this.single(`DELE ${n}`);
  }

  /** QUIT: the server removes the DELE-marked messages only now (RFC 1939 §6). */
  async quit(): Promise<void> {
    try {
      await this.single('QUIT');
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private async startTls(): Promise<void> {
    // a -ERR to CAPA means no CAPA (so no STLS); a dropped connection stays what it is
    const capa = await this.command('CAPA', true);
    const offered = capa.status.ok && /(^|\r\n)STLS(\r\n|$)/i.test(capa.body?.toString('latin1') ?? '');
    if (!offered) {
      throw new UsageError(
        'POP3_TLS',
        `POP3 server ${serverAddress(this.url)} offers no STLS: use pop3s:// (implicit TLS), or ?tls=off for a loopback server only`,
      );
    }
    await this.single('STLS');
    // anything sent after the +OK and before the handshake was sent in plaintext: someone on
    // the path may have put it there to be read as if it came over TLS (CVE-2011-0411 class)
    if (this.reader.pending > 0) {
      this.destroy();
      throw new TransientError('POP3_PROTOCOL', `POP3 server ${serverAddress(this.url)} sent data before the TLS handshake; refused`);
    }
    const plain = this.socket as net.Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('timeout');
    plain.setTimeout(0);
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ ...tlsOptions(this.options.ca), socket: plain, servername: servername(this.url.host) }, () => {
        clearTimeout(timer);
        resolve(s);
      });
      const timer = setTimeout(() => {
        s.destroy();
        reject(Object.assign(new Error('TLS handshake timeout'), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      s.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      s.once('close', () => {
        clearTimeout(timer);
        reject(Object.assign(new Error('closed during the TLS handshake'), { code: 'ECONNRESET' }));
      });
    }).catch((error) => {
      this.destroy();
      throw connectionError(this.url, error);
    });
    this.reader = new Pop3Reader();
    this.socket = secure;
    this.attach(secure);
  }

  private async login(user: string, password: string): Promise<void> {
    const u = await this.command(`USER ${user}`);
    const p = u.status.ok ? await this.command(`PASS ${password}`, false, 'PASS ***') : u;
    if (p.status.ok) return;
    // the server's words may echo what was typed: never let the password through
    const text = password && p.status.text.includes(password) ? '(server text withheld: it quoted the password)' : clean(p.status.text);
    if (/^\[(IN-USE|SYS\/TEMP)\]/i.test(text)) {
      throw new TransientError('POP3_UNAVAILABLE', `POP3 server ${serverAddress(this.url)}: ${text}; try again later`);
    }
    throw new UsageError('POP3_AUTH', `POP3 login as ${user} at ${serverAddress(this.url)} refused: ${text}`);
  }

  private async single(line: string): Promise<Pop3Status> {
    const r = await this.command(line);
    if (!r.status.ok) throw this.refused(line, r.status);
    return r.status;
  }

  private async multi(line: string): Promise<Buffer> {
    const r = await this.command(line, true);
    if (!r.status.ok) throw this.refused(line, r.status);
    return r.body ?? Buffer.alloc(0);
  }

  private refused(line: string, status: Pop3Status): TransientError {
    return new TransientError(
      'POP3_COMMAND',
      `POP3 server ${serverAddress(this.url)} answered ${line.split(' ')[0]} with -ERR ${clean(status.text)}`,
    );
  }

  private command(line: string, multiline = false, shown = line): Promise<{ status: Pop3Status; body?: Buffer }> {
    if (/[\r\n]/.test(line))
      return Promise.reject(new UsageError('POP3_BAD_COMMAND', `a POP3 argument holds a line break (${shown.split(' ')[0]})`));
    const answer = this.await(multiline);
    this.socket.write(`${line}\r\n`);
    return answer;
  }

  private await(multiline: boolean): Promise<{ status: Pop3Status; body?: Buffer }> {
    if (this.failure) return Promise.reject(this.failure);
    // the timeout runs only while an answer is awaited: rds may take long over one mail
    this.socket.setTimeout(this.options.timeoutMs ?? 30_000);
    return new Promise<{ status: Pop3Status; body?: Buffer }>((resolve, reject) => {
      this.waiter = { multiline, resolve, reject };
      this.drain();
    }).finally(() => {
      if (!this.waiter) this.socket.setTimeout(0);
    });
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      // nothing was asked: a server that talks anyway is not buffered without end
      if (!this.waiter && this.reader.pending > 4096) {
        this.fail(this.protocol(new Pop3ProtocolError('unasked data from the server')));
        socket.destroy();
        return;
      }
      this.drain();
    });
    socket.on('timeout', () => {
      if (!this.waiter) return;
      this.fail(new TransientError('POP3_UNREACHABLE', `POP3 server ${serverAddress(this.url)} did not answer in time`));
      socket.destroy();
    });
    socket.on('error', (error) => this.fail(connectionError(this.url, error)));
    socket.on('close', () =>
      this.fail(new TransientError('POP3_UNREACHABLE', `POP3 server ${serverAddress(this.url)} closed the connection`)),
    );
  }

  private drain(): void {
    const w = this.waiter;
    if (!w) return;
    try {
      if (!w.status) {
        const status = this.reader.status();
        if (!status) return;
        w.status = status;
      }
      if (!w.multiline || !w.status.ok) {
        this.waiter = undefined;
        w.resolve({ status: w.status });
        return;
      }
      const body = this.reader.body(this.maxBody);
      if (!body) return;
      this.waiter = undefined;
      w.resolve({ status: w.status, body });
    } catch (error) {
      this.fail(this.protocol(error as Error));
      this.socket.destroy();
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.failure);
  }

  private protocol(error: Error): Error {
    return new TransientError('POP3_PROTOCOL', `POP3 server ${serverAddress(this.url)}: ${error.message}`, { cause: error });
  }
}

async function connectSocket(url: ServerMailUrl, options: Pop3ConnectOptions): Promise<net.Socket | tls.TLSSocket> {
  const timeout = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      socket.destroy();
      reject(connectionError(url, error));
    };
    const socket =
      url.tls === 'implicit'
        ? tls.connect({ ...tlsOptions(options.ca), host: url.host, port: url.port, servername: servername(url.host) }, () => done())
        : net.connect({ host: url.host, port: url.port }, () => done());
    const timer = setTimeout(() => onError(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), timeout);
    function done() {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    }
    socket.once('error', (error) => {
      clearTimeout(timer);
      onError(error);
    });
  });
}

function connectionError(url: ServerMailUrl, error: unknown): Error {
  const kind = classifyConnectionError(error);
  if (kind === 'tls') {
    return new UsageError(
      'POP3_TLS',
      `TLS with POP3 server ${serverAddress(url)} failed: ${describeCause(error)} (trust a private CA with --tls-ca FILE; check the scheme and port)`,
      { cause: error },
    );
  }
  return new TransientError('POP3_UNREACHABLE', `POP3 server ${redactMailUrl(url)} cannot be reached: ${describeCause(error)}`, {
    cause: error,
  });
}

function servername(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}

/** Server text is outside text: printable ASCII only, bounded. */
function clean(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}
