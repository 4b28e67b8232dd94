/**
 * The embedded SMTP listener of the demo and of small single-box sites: an SMTP server
 * (nodemailer's smtp-server) that delivers each accepted mail into the Maildir of every
 * recipient under `root` (maildir.ts), to be read back through `maildir:///root`.
 *
 * It binds to loopback by default. AUTH is off unless `auth` is given; binding anywhere
 * else requires AUTH (an open relay into the boxes' command inboxes), and AUTH without TLS
 * is allowed on loopback only, where no one can sniff the password. Size: the SIZE
 * extension (RFC 1870) announces the limit; a client declaring more is refused at MAIL
 * FROM, and a mail that turns out bigger is answered 552 (RFC 5321 §4.5.3.1.10) and not
 * stored.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { SMTPServer, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { UsageError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { toLibraryLogger } from './library-logger.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';
import { MaildirSender } from './maildir.js';
import { mailboxDir } from './maildir-layout.js';

export interface MailListenerOptions {
  /** Maildir root to deliver into (the same root as the `maildir://` URL). */
  root: string;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: a free one, see `port` of the result). */
  port?: number;
  maxMessageSize?: number;
  auth?: { user: string; password: string };
  /** PEM key and certificate: offer STARTTLS (RFC 3207). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Which recipients have a mailbox here (default: every well-formed address). */
  acceptRecipient?: (address: string) => boolean;
  /** fsync each delivery (default true). */
  fsync?: boolean;
  logger?: Logger;
}

export interface MailListener {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startMailListener(options: MailListenerOptions): Promise<MailListener> {
  const host = options.host ?? '127.0.0.1';
  checkExposure(host, options);
  const { SMTPServer } = await import('smtp-server');
  const server = new SMTPServer(serverOptions(options));
  const logger = options.logger ?? silentLogger;
  server.on('error', (error) => logger.debug('listener: connection error', { error: error.message }));
  const port = await listen(server, host, options.port ?? 0);
  logger.debug('listener: accepting mail', { host, port });
  return {
    host,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function checkExposure(host: string, options: MailListenerOptions): void {
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (loopback) return;
  if (!options.auth)
    throw new UsageError('LISTENER_UNSAFE', `the mail listener binds to ${host}, not loopback: it then needs AUTH (user and password)`);
  if (!options.tls)
    throw new UsageError('LISTENER_UNSAFE', `the mail listener binds to ${host}, not loopback: AUTH there needs TLS (key and certificate)`);
}

function serverOptions(options: MailListenerOptions): SMTPServerOptions {
  const maxBytes = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const sender = new MaildirSender(options.root, { maxMessageSize: maxBytes, fsync: options.fsync, logger: options.logger });
  return {
    name: 'localhost',
    banner: 'rds mail listener',
    size: maxBytes,
    authOptional: !options.auth,
    disabledCommands: [...(options.auth ? [] : ['AUTH']), ...(options.tls ? [] : ['STARTTLS'])],
    allowInsecureAuth: !options.tls,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disableReverseLookup: true,
    closeTimeout: 1000,
    logger: options.logger ? toLibraryLogger(options.logger, 'listener') : false,
    onAuth(auth, _session, callback) {
      const granted =
        options.auth !== undefined &&
        sameSecret(auth.username ?? '', options.auth.user) &&
        sameSecret(auth.password ?? '', options.auth.password);
      if (granted) callback(null, { user: auth.username });
      else callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    onRcptTo(address, _session, callback) {
      callback(checkRecipient(options, address.address));
    },
    onData(stream, session, callback) {
      readMessage(stream, maxBytes)
        .then((raw) => {
          if (!raw) return callback(smtpError(552, `5.3.4 Message exceeds the fixed maximum message size of ${maxBytes} bytes`));
          return sender.sendRaw(envelopeOf(session), raw).then(
            () => callback(null, 'Delivered'),
            (error: Error) => {
              (options.logger ?? silentLogger).warn('listener: delivery failed', { error: error.message });
              callback(smtpError(451, '4.3.0 Local delivery failed, try again later'));
            },
          );
        })
        .catch((error: Error) => callback(smtpError(451, `4.3.0 ${error.message}`)));
    },
  };
}

function checkRecipient(options: MailListenerOptions, address: string): Error | undefined {
  try {
    mailboxDir(options.root, address);
  } catch {
    return smtpError(553, '5.1.3 Mailbox name not allowed'); // RFC 5321 §4.2.2
  }
  if (options.acceptRecipient && !options.acceptRecipient(address)) return smtpError(550, '5.1.1 No such mailbox here');
  return undefined;
}

/** The whole DATA, or undefined when it went over the limit (the rest is drained, not kept). */
function readMessage(stream: SMTPServerDataStream, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= maxBytes) chunks.push(chunk);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(stream.sizeExceeded || length > maxBytes ? undefined : Buffer.concat(chunks, length)));
  });
}

function envelopeOf(session: SMTPServerSession): { from: string; to: string[] } {
  const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
  return { from, to: session.envelope.rcptTo.map((r) => r.address) };
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

// Compare digests so the time taken does not reveal how much of a secret matched.
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function listen(server: SMTPServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) =>
      reject(new UsageError('LISTENER_BIND', `cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
    server.server.once('error', onError);
    server.listen(port, host, () => {
      server.server.off('error', onError);
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
