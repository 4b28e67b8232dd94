/**
 * Sorting the failures of nodemailer and imapflow into what the operator must do about
 * them. Both libraries pass Node's socket, DNS and TLS codes through (nodemailer keeps the
 * original in `originalCode` and sets its own `ESOCKET` / `EDNS` / `ETIMEDOUT` in `code`).
 *
 *   unreachable  nothing answered, or it hung up / did not greet: try again later (exit 3)
 *   tls          the server's certificate or TLS setup is not acceptable: a config problem
 *                (a private CA to pass with --tls-ca, a wrong scheme or port), never retried
 *                blindly and never "fixed" by turning verification off
 */
export type ConnectionFailure = 'unreachable' | 'tls';

interface CodedError {
  code?: unknown;
  originalCode?: unknown;
  tlsFailed?: unknown;
}

const UNREACHABLE = new Set([
  // Node: socket and resolver
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  // nodemailer: connection, greeting (RFC 5321 §4.2: a server not ready sends 421 or nothing)
  'ECONNECTION',
  'ESOCKET',
  'EDNS',
  'EPROTOCOL',
  // imapflow: connect, greeting, dropped connection
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'UPGRADE_TIMEOUT',
  'ETIMEOUT',
  'NoConnection',
  'EConnectionClosed',
  'ClosedAfterConnectText',
  'ClosedAfterConnectTLS',
]);

// Node's certificate verification codes (X509_V_ERR_* names) and TLS protocol failures.
const TLS_CODE =
  /^(CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT|UNABLE_TO_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH|ETLS$|EREQUIRETLS$|STARTTLS)/;

export function classifyConnectionError(error: unknown): ConnectionFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const coded = error as CodedError;
  const codes = [coded.originalCode, coded.code].filter((c): c is string => typeof c === 'string');
  if (coded.tlsFailed === true || codes.some((c) => TLS_CODE.test(c))) return 'tls';
  if (codes.some((c) => UNREACHABLE.has(c))) return 'unreachable';
  return undefined;
}

/** What the operator can do about a TLS failure. */
export function tlsHint(error: unknown, scheme: 'smtp' | 'imap'): string {
  if (/STARTTLS/i.test(describeCause(error))) {
    return `the server offers no STARTTLS: use ${scheme}s:// (implicit TLS), or ?tls=off for a loopback server only`;
  }
  return 'trust a private CA with --tls-ca FILE; check the scheme and port';
}

/** The error's own message, cut to one line, for wrapping into ours. */
export function describeCause(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split(/\r?\n/, 1)[0]?.slice(0, 300) ?? '';
}
