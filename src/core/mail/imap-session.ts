/**
 * Opening one IMAP session (RFC 3501 / RFC 9051) with imapflow, and mapping its failures
 * to our error table.
 *
 * TLS: imaps:// is implicit TLS (RFC 8314). imap:// REQUIRES STARTTLS (RFC 3501 §6.2.1):
 * IMAP always logs in, and a cleartext CAPABILITY reply can be stripped of STARTTLS by a
 * network attacker to make a lax client send the password in clear. `?tls=off` is for a
 * loopback server without TLS only. Certificates are always verified (tls-options.ts).
 */
import type { ImapFlow } from 'imapflow';
import { FailedError, type RdsError, TransientError, UsageError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { classifyConnectionError, describeCause, tlsHint } from './failure.js';
import { toLibraryLogger } from './library-logger.js';
import { tlsOptions } from './tls-options.js';
import { type ServerMailUrl, serverAddress } from './url.js';

export interface ImapSessionOptions {
  /** PEM of a private CA, trusted in addition to the system roots. */
  ca?: string | Buffer;
  logger?: Logger;
  /** Budget for TCP + TLS connect and for the greeting, each (default 30 s). */
  timeoutMs?: number;
}

interface ImapFailure {
  code?: string;
  authenticationFailed?: boolean;
  responseText?: string;
  serverResponseCode?: string;
  responseStatus?: string;
}

export async function openImapSession(url: ServerMailUrl, options: ImapSessionOptions = {}): Promise<ImapFlow> {
  requireImapUrl(url);
  const { ImapFlow } = await import('imapflow');
  const logger = options.logger ?? silentLogger;
  const timeout = options.timeoutMs ?? 30_000;
  const client = new ImapFlow({
    host: url.host,
    port: url.port,
    secure: url.tls === 'implicit',
    doSTARTTLS: url.tls === 'off' ? false : url.tls === 'starttls' ? true : undefined,
    tls: tlsOptions(options.ca),
    auth: { user: url.user ?? '', pass: url.password ?? '' },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    // Commands come back to back while mail is read, and an IDLE between two of them would
    // cost two round trips; but while the caller works on one mail for minutes (an update
    // install), IDLE (RFC 2177) keeps the session from timing out. So: IDLE only after 60 s.
    autoIdleDelay: 60_000,
    logger: options.logger ? toLibraryLogger(logger, 'imap') : false,
  });
  // imapflow reports a dropped connection as an 'error' event too; the next command throws.
  client.on('error', (error: Error) => logger.debug('imap: connection error', { error: describeCause(error) }));
  try {
    await client.connect();
  } catch (error) {
    client.close();
    throw toImapError(error, url);
  }
  return client;
}

function requireImapUrl(url: ServerMailUrl): void {
  if (url.scheme !== 'imap' && url.scheme !== 'imaps') {
    throw new UsageError('MAIL_URL_INVALID', `an IMAP inbox needs an imap:// or imaps:// URL, not ${url.scheme}://`);
  }
  if (url.user === undefined || url.password === undefined) {
    throw new UsageError(
      'MAIL_NO_PASSWORD',
      `IMAP at ${serverAddress(url)} needs a user name and a password: imap://USER:PASSWORD@host (user percent-encoded, e.g. agent1%40example.com), or the password in RDS_IMAP_PASSWORD or a password file`,
    );
  }
}

export function toImapError(error: unknown, url: ServerMailUrl, doing = 'connecting'): RdsError {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as ImapFailure;
  const server = serverAddress(url);
  const reply = failure.responseText ?? describeCause(error);
  const options = { cause: error, details: { server, responseCode: failure.serverResponseCode, response: failure.responseText } };
  if (failure.authenticationFailed) {
    return new UsageError('IMAP_AUTH', `IMAP server ${server} refused the login of ${url.user}: ${reply}`, options);
  }
  const kind = classifyConnectionError(error);
  if (kind === 'tls') {
    return new UsageError(
      'IMAP_TLS',
      `TLS with IMAP server ${server} failed: ${describeCause(error)} (${tlsHint(error, 'imap')})`,
      options,
    );
  }
  if (kind === 'unreachable') {
    return new TransientError('IMAP_UNREACHABLE', `IMAP server ${server} is unreachable (${doing}): ${describeCause(error)}`, options);
  }
  return new FailedError('IMAP_COMMAND_FAILED', `IMAP server ${server}: ${doing} failed: ${reply}`, options);
}

/** A command that imapflow reports as `false`/`undefined` instead of throwing. */
export function commandFailed(client: ImapFlow, url: ServerMailUrl, doing: string): RdsError {
  if (!client.usable) {
    return new TransientError('IMAP_UNREACHABLE', `IMAP server ${serverAddress(url)} closed the connection (${doing})`);
  }
  return new FailedError('IMAP_COMMAND_FAILED', `IMAP server ${serverAddress(url)}: ${doing} failed (details in the debug log)`);
}
