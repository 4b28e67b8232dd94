/**
 * Mail URLs: `smtp://`, `smtps://`, `imap://`, `imaps://`, `pop3://`, `pop3s://` and `maildir:///abs/path`.
 *
 * The user name is percent-encoded as RFC 3986 §3.2.1 requires (`agent1%40example.com`),
 * and so is a password holding `@ : / ? #`. A password may instead come from the
 * environment or a file: the caller reads those and passes `passwordOverride`, which wins
 * over a password written in the URL. TLS policy, by scheme:
 *
 *   smtps://, imaps://, pop3s://   implicit TLS (RFC 8314 §3.3), certificate verified
 *   smtp://, imap://, pop3://      STARTTLS / STLS (RFC 3207, RFC 3501 §6.2.1, RFC 2595 §4); see
 *                                  smtp.ts, imap.ts and pop3-client.ts for when it is required
 *   ?tls=off             plaintext, for a loopback listener without a certificate only
 *
 * Nothing here ever puts a password into an error message: errors show `redactMailUrl()`.
 */
import { UsageError } from '../errors.js';

export type ServerScheme = 'smtp' | 'smtps' | 'imap' | 'imaps' | 'pop3' | 'pop3s';
export type TlsMode = 'implicit' | 'starttls' | 'off';

export interface ServerMailUrl {
  scheme: ServerScheme;
  host: string;
  port: number;
  user?: string;
  password?: string;
  tls: TlsMode;
}

export interface MaildirUrl {
  scheme: 'maildir';
  /** Absolute directory holding one Maildir per address. */
  root: string;
}

export type MailUrl = ServerMailUrl | MaildirUrl;

/** Well-known ports: SMTP 25 (RFC 5321), submissions 465 (RFC 8314), IMAP 143, IMAPS 993, POP3 110, POP3S 995. */
export const DEFAULT_PORTS: Readonly<Record<ServerScheme, number>> = {
  smtp: 25,
  smtps: 465,
  imap: 143,
  imaps: 993,
  pop3: 110,
  pop3s: 995,
};

const SCHEMES = ['smtp', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s', 'maildir'] as const;
const EXAMPLE = 'smtp://agent1%40example.com:PASSWORD@mail.example.com:587';
const REDACTED = '***';

export interface ParseMailUrlOptions {
  /** Password from RDS_SMTP_PASSWORD / RDS_IMAP_PASSWORD or a password file (wins over the URL's). */
  passwordOverride?: string;
}

export function parseMailUrl(text: string, options: ParseMailUrlOptions = {}): MailUrl {
  const scheme = readScheme(text);
  if (scheme !== 'maildir' && hasRawDelimiterInUserinfo(text)) {
    throw badUrl(text, 'the user name or password holds a raw "/", "?" or "#" (percent-encode them as %2F, %3F, %23)');
  }
  const url = toWhatwgUrl(text, scheme);
  if (url.hash) throw badUrl(text, 'a #fragment is not allowed');
  if (scheme === 'maildir') return parseMaildir(text, url);
  return parseServer(text, url, scheme, options.passwordOverride);
}

export function formatMailUrl(url: MailUrl): string {
  if (url.scheme === 'maildir') return `maildir://${url.root.split('/').map(encodeURIComponent).join('/')}`;
  const userinfo =
    url.user === undefined
      ? ''
      : `${encodeURIComponent(url.user)}${url.password === undefined ? '' : `:${encodeURIComponent(url.password)}`}@`;
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  const query = url.tls === 'off' ? '?tls=off' : '';
  return `${url.scheme}://${userinfo}${host}:${url.port}${query}`;
}

/** The URL for logs and messages, with the password replaced by `***`. Never throws. */
export function redactMailUrl(url: string | MailUrl): string {
  if (typeof url !== 'string') {
    return url.scheme !== 'maildir' && url.password !== undefined ? formatMailUrl({ ...url, password: REDACTED }) : formatMailUrl(url);
  }
  try {
    return redactMailUrl(parseMailUrl(url));
  } catch {
    return redactMailUrlText(url);
  }
}

/** `host:port` as shown in messages (IPv6 in brackets). */
export function serverAddress(url: ServerMailUrl): string {
  return `${url.host.includes(':') ? `[${url.host}]` : url.host}:${url.port}`;
}

// "scheme://user:pa/ss@host": the URL parser ends the authority at the first '/', '?' or '#', so
// the port, path or option it would complain about is a piece of the password. Refuse the URL
// as a whole, before parsing, so no message quotes that piece.
function hasRawDelimiterInUserinfo(text: string): boolean {
  const start = text.indexOf('//');
  if (start < 0) return false;
  const at = text.lastIndexOf('@');
  const end = text.slice(start + 2).search(/[/?#]/);
  return at > start && end >= 0 && at > start + 2 + end;
}

function readScheme(text: string): (typeof SCHEMES)[number] {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text);
  const scheme = match?.[1]?.toLowerCase();
  if (!scheme) throw badUrl(text, 'it does not start with a scheme');
  const known = SCHEMES.find((s) => s === scheme);
  if (!known) {
    // In "user:password@host" the "scheme" is the user name: quote it only before "//".
    const shown = text.startsWith(`${match?.[1]}://`) || !text.includes('@') ? `unknown scheme "${scheme}:"` : 'no known scheme';
    throw badUrl(text, `${shown} (expected one of ${SCHEMES.join(', ')})`);
  }
  return known;
}

function toWhatwgUrl(text: string, scheme: string): URL {
  try {
    return new URL(text);
  } catch {
    const port = scheme === 'maildir' ? undefined : readPortText(text);
    if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) <= 65535)) throw badPort(text, port);
    throw badUrl(text, 'it is not a valid URL (percent-encode "@", ":" and "/" inside the user name and password)');
  }
}

// The text after the host's last ':' (outside IPv6 brackets), to name a bad port precisely.
function readPortText(text: string): string | undefined {
  const authority = text.slice(text.indexOf('//') + 2).split(/[/?#]/, 1)[0] ?? '';
  const hostport = authority.slice(authority.lastIndexOf('@') + 1);
  const colon = hostport.lastIndexOf(':');
  return colon > hostport.lastIndexOf(']') ? hostport.slice(colon + 1) : undefined;
}

function parseMaildir(text: string, url: URL): MaildirUrl {
  if (url.host !== '' || !url.pathname.startsWith('/')) {
    throw badUrl(text, 'a maildir URL names an absolute directory with three slashes: maildir:///var/lib/rds/mail');
  }
  if (url.search) throw badUrl(text, 'a maildir URL takes no ?options');
  const root = decode(text, url.pathname, 'path').replace(/(.)\/+$/, '$1');
  if (root.includes('\0')) throw badUrl(text, 'the path contains a NUL byte');
  return { scheme: 'maildir', root };
}

function parseServer(text: string, url: URL, scheme: ServerScheme, passwordOverride?: string): ServerMailUrl {
  const host = readHost(text, url);
  const port = url.port === '' ? DEFAULT_PORTS[scheme] : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badPort(text, url.port);
  if (url.pathname !== '' && url.pathname !== '/') throw badUrl(text, `unexpected path "${url.pathname}"`);
  const tls = readTlsMode(text, url, scheme);
  const user = url.username === '' ? undefined : decode(text, url.username, 'user name');
  const inUrl = url.password === '' ? undefined : decode(text, url.password, 'password');
  const password = passwordOverride ?? inUrl;
  if (password !== undefined && user === undefined) {
    throw badUrl(text, 'a password is given but no user name (write user:password@host)');
  }
  return { scheme, host, port, tls, ...(user === undefined ? {} : { user }), ...(password === undefined ? {} : { password }) };
}

function readHost(text: string, url: URL): string {
  const raw = url.hostname;
  if (raw === '') throw badUrl(text, `no host name (example: ${EXAMPLE})`);
  if (raw.startsWith('[')) return raw.slice(1, -1).toLowerCase();
  // Non-special URL schemes keep an "opaque host": insist on an ASCII DNS name or IPv4 address.
  if (!/^[a-zA-Z0-9._-]+$/.test(raw)) {
    throw badUrl(text, `host "${raw}" is not an ASCII host name (write internationalised names as xn--…)`);
  }
  return raw.toLowerCase();
}

function readTlsMode(text: string, url: URL, scheme: ServerScheme): TlsMode {
  const implicit = scheme === 'smtps' || scheme === 'imaps' || scheme === 'pop3s';
  for (const [key, value] of url.searchParams) {
    if (key !== 'tls') throw badUrl(text, `unknown option "?${key}" (the only option is ?tls=off)`);
    if (value !== 'off') throw badUrl(text, `"?tls=${value}" is not supported (the only value is off)`);
    if (implicit) throw badUrl(text, `?tls=off contradicts ${scheme}:// (implicit TLS); use ${scheme.slice(0, -1)}://`);
    return 'off';
  }
  return implicit ? 'implicit' : 'starttls';
}

function decode(text: string, value: string, part: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw badUrl(text, `the ${part} has a malformed %-escape`);
  }
}

function badPort(text: string, port: string): UsageError {
  return badUrl(text, `port "${port}" is not a number from 1 to 65535`);
}

function badUrl(text: string, problem: string): UsageError {
  return new UsageError('MAIL_URL_INVALID', `bad mail URL ${redactMailUrlText(text)}: ${problem}`, {
    details: { url: redactMailUrlText(text) },
  });
}

// Redaction of text that may not parse: keep the user name, hide everything from the first
// ':' of the userinfo to the last '@' (a password with a raw '@' or '/' stays hidden). Without
// "scheme://" the user name cannot be told apart: everything before the last '@' is hidden.
function redactMailUrlText(text: string): string {
  const at = text.lastIndexOf('@');
  const start = text.indexOf('//');
  if (at >= 0 && !(start >= 0 && start < at && /^[a-zA-Z][a-zA-Z0-9+.-]*:$/.test(text.slice(0, start)))) {
    const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.exec(text.slice(0, at))?.[0] ?? '';
    return `${SCHEMES.some((s) => `${s}:` === scheme.toLowerCase()) ? scheme : ''}${REDACTED}${text.slice(at)}`;
  }
  if (at > start && start >= 0) {
    const userinfo = text.slice(start + 2, at);
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    return `${text.slice(0, start + 2)}${user}${colon < 0 ? '' : `:${REDACTED}`}${text.slice(at)}`;
  }
  return text;
}
