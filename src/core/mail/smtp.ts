/**
 * MailSender over SMTP (RFC 5321) with nodemailer's pool: up to `maxConnections` sessions
 * stay open and every `sendRaw` reuses one, so pushing to many agents pays the TCP + TLS +
 * AUTH handshake a few times instead of once per mail.
 *
 * TLS: smtps:// is implicit TLS (RFC 8314). smtp:// upgrades with STARTTLS (RFC 3207)
 * whenever the server offers it, and REQUIRES it when a user name is given, so a network
 * attacker who strips the STARTTLS capability from the cleartext EHLO reply cannot make us
 * send the password in clear. `?tls=off` (loopback listeners only) never upgrades.
 */
import type { Transporter } from 'nodemailer';
import { FailedError, type RdsError, TransientError, UsageError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { classifyConnectionError, describeCause, tlsHint } from './failure.js';
import { toLibraryLogger } from './library-logger.js';
import { checkMessageSize, DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';
import { tlsOptions } from './tls-options.js';
import type { Envelope, MailPieces, MailSender } from './types.js';
import { type ServerMailUrl, serverAddress } from './url.js';

export { checkMessageSize, DEFAULT_MAX_MESSAGE_SIZE } from './limits.js';

export interface SmtpSenderOptions {
  /** PEM of a private CA, trusted in addition to the system roots. */
  ca?: string | Buffer;
  logger?: Logger;
  /** Parallel SMTP sessions of the pool (default 5). */
  maxConnections?: number;
  /** Mail larger than this is refused before sending (default 10240000, Postfix's). */
  maxMessageSize?: number;
  /** Budget for TCP connect and for the server's greeting, each (default 30 s). */
  timeoutMs?: number;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  rejected?: unknown[];
}

interface SentInfo {
  accepted?: unknown[];
  rejected?: unknown[];
  rejectedErrors?: SmtpFailure[];
  response?: string;
}

export async function createSmtpSender(url: ServerMailUrl, options: SmtpSenderOptions = {}): Promise<MailSender> {
  requireSmtpUrl(url);
  const { default: nodemailer } = await import('nodemailer');
  // the same bytes on the wire as nodemailer's own, for a fraction of its CPU (smtp-dot-stuffing.ts)
  await (await import('./smtp-dot-stuffing.js')).useFastDotStuffing();
  const logger = options.logger ?? silentLogger;
  const timeout = options.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    host: url.host,
    port: url.port,
    secure: url.tls === 'implicit',
    requireTLS: url.tls === 'starttls' && url.user !== undefined,
    ignoreTLS: url.tls === 'off',
    tls: tlsOptions(options.ca),
    ...(url.user === undefined ? {} : { auth: { user: url.user, pass: url.password ?? '' } }),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: 5 * 60_000,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: options.logger ? toLibraryLogger(logger, 'smtp') : false,
  });
  const probe = () => advertisedSize(url, { ca: options.ca, timeoutMs: timeout });
  return new SmtpSender(transport, url, options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, logger, probe);
}

/**
 * The SIZE the server announces in its EHLO reply (after STARTTLS when it offers it, as the
 * pool's sessions see it): one short session that says EHLO and QUIT, nothing more (no
 * login, no mail). Undefined when it announces none or cannot be reached (the send that
 * follows reports that).
 */
export async function advertisedSize(
  url: ServerMailUrl,
  options: { ca?: string | Buffer; timeoutMs: number },
): Promise<number | undefined> {
  const { default: SMTPConnection } = await import('nodemailer/lib/smtp-connection');
  const connection = new SMTPConnection({
    host: url.host,
    port: url.port,
    secure: url.tls === 'implicit',
    requireTLS: url.tls === 'starttls' && url.user !== undefined,
    ignoreTLS: url.tls === 'off',
    tls: tlsOptions(options.ca),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      connection.on('error', reject);
      connection.connect(() => resolve());
    });
    const size = (connection as unknown as { _maxAllowedSize?: number })._maxAllowedSize;
    return typeof size === 'number' && size > 0 ? size : undefined;
  } catch {
    return undefined;
  } finally {
    connection.close();
  }
}

class SmtpSender implements MailSender {
  constructor(
    private readonly transport: Transporter,
    private readonly url: ServerMailUrl,
    private readonly maxBytes: number,
    private readonly logger: Logger,
    private readonly probe: () => Promise<number | undefined>,
  ) {}

  sizeLimit(): Promise<number | undefined> {
    return this.probe();
  }

  async sendRaw(envelope: Envelope, raw: Buffer): Promise<void> {
    checkMessageSize(raw, this.maxBytes);
    let info: SentInfo;
    try {
      // `raw` is sent byte for byte: no header is added or re-encoded (the outbox stores it).
      info = (await this.transport.sendMail({ envelope: { from: envelope.from, to: [...envelope.to] }, raw })) as SentInfo;
    } catch (error) {
      throw toSmtpError(error, this.url);
    }
    // nodemailer delivers to the recipients the server accepted and reports the others.
    if (info.rejected && info.rejected.length > 0) throw partialRejection(this.url, info);
    this.logger.debug('smtp: sent', { server: serverAddress(this.url), to: envelope.to.length, size: raw.length });
  }

  /**
   * A mail in pieces, streamed (smtp-stream.ts): the same bytes on the wire as sendRaw of
   * the joined pieces. When nodemailer's pool would send it again (its connection closed
   * mid-send), it is sent again whole from a fresh stream, as a Buffer would be (at most
   * 5 times, the pool's own bound).
   */
  async sendPieces(envelope: Envelope, mail: MailPieces): Promise<void> {
    checkMessageSize(mail, this.maxBytes);
    const info = await this.streamed(envelope, mail);
    if (info.rejected && info.rejected.length > 0) throw partialRejection(this.url, info);
    this.logger.debug('smtp: sent', { server: serverAddress(this.url), to: envelope.to.length, size: mail.length });
  }

  private async streamed(envelope: Envelope, mail: MailPieces): Promise<SentInfo> {
    const { PieceStream, wasResent } = await import('./smtp-stream.js');
    for (let attempt = 1; ; attempt++) {
      const raw = new PieceStream(mail);
      try {
        return (await this.transport.sendMail({ envelope: { from: envelope.from, to: [...envelope.to] }, raw })) as SentInfo;
      } catch (error) {
        raw.destroy();
        if (attempt >= RESENDS || !wasResent(raw, error)) throw toSmtpError(error, this.url);
      }
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** Sends of one streamed mail whose connection closed mid-send (nodemailer's pool requeues a Buffer 5 times). */
const RESENDS = 6;

function requireSmtpUrl(url: ServerMailUrl): void {
  if (url.scheme !== 'smtp' && url.scheme !== 'smtps') {
    throw new UsageError('MAIL_URL_INVALID', `an SMTP sender needs an smtp:// or smtps:// URL, not ${url.scheme}://`);
  }
  if (url.user !== undefined && url.password === undefined) {
    throw new UsageError(
      'MAIL_NO_PASSWORD',
      `no SMTP password for ${url.user} at ${serverAddress(url)}: put it in the URL, RDS_SMTP_PASSWORD or a password file`,
    );
  }
}

/** Maps a nodemailer failure to our error table (RFC 5321 §4.2.1: 4yz transient, 5yz permanent). */
export function toSmtpError(error: unknown, url: ServerMailUrl): RdsError {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as SmtpFailure;
  const server = serverAddress(url);
  const reply = { responseCode: failure.responseCode, response: failure.response, rejected: failure.rejected };
  const options = { cause: error, details: { server, ...reply } };
  if (failure.code === 'EAUTH' || failure.code === 'ENOAUTH') {
    return new UsageError(
      'SMTP_AUTH',
      `SMTP server ${server} refused the login of ${url.user ?? '(no user)'}: ${describeCause(error)}`,
      options,
    );
  }
  // a greeting that is no SMTP reply at all ("* OK … IMAP", "+OK" POP3): the URL names the wrong port
  if (failure.code === 'EPROTOCOL' && typeof failure.response === 'string' && !/^\d{3}/.test(failure.response)) {
    return new UsageError(
      'SMTP_NOT_SMTP',
      `${server} is not an SMTP server (it greeted with "${describeCause(failure.response).slice(0, 60)}"): check the port of the smtp URL (submission is 587, smtps 465; 143/993 are IMAP)`,
      options,
    );
  }
  const kind = classifyConnectionError(error);
  if (kind === 'tls') {
    return new UsageError(
      'SMTP_TLS',
      `TLS with SMTP server ${server} failed: ${describeCause(error)} (${tlsHint(error, 'smtp')})`,
      options,
    );
  }
  const code = failure.responseCode ?? 0;
  if (code >= 400 && code < 500) {
    return new TransientError(
      'SMTP_DEFERRED',
      `SMTP server ${server} deferred the mail, try again later: ${failure.response ?? code}`,
      options,
    );
  }
  if (code >= 500 && code < 600) {
    return new FailedError('SMTP_REJECTED', `SMTP server ${server} rejected the mail: ${failure.response ?? code}`, options);
  }
  if (kind === 'unreachable') {
    return new TransientError('SMTP_UNREACHABLE', `SMTP server ${server} is unreachable: ${describeCause(error)}`, options);
  }
  return new FailedError('SMTP_FAILED', `sending through SMTP server ${server} failed: ${describeCause(error)}`, options);
}

function partialRejection(url: ServerMailUrl, info: SentInfo): FailedError {
  const first = info.rejectedErrors?.[0];
  const rejected = (info.rejected ?? []).map(String);
  const accepted = (info.accepted ?? []).map(String);
  return new FailedError(
    'SMTP_REJECTED',
    `SMTP server ${serverAddress(url)} rejected ${rejected.join(', ')} (sent to ${accepted.join(', ') || 'nobody'}): ${first?.response ?? ''}`,
    { details: { server: serverAddress(url), responseCode: first?.responseCode, response: first?.response, accepted, rejected } },
  );
}
