/**
 * TLS settings shared by the SMTP and IMAP clients. Certificates are always verified
 * (RFC 8314 §4.2 / RFC 6125 host name check): a man in the middle on a customer's network
 * must not be able to read the mail passwords or the mail. `rejectUnauthorized: false` is
 * never set; a server with a private CA is trusted by passing that CA (`--tls-ca FILE`).
 */
import { type ConnectionOptions, createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

// Node's `ca` option replaces the built-in roots, so trusting a private CA *in addition*
// means loading all ~140 roots again: ~80 ms of CPU per connection, measured. Build that
// context once per CA and hand every connection the same one.
const contexts = new Map<string, SecureContext>();

export function tlsOptions(ca?: string | Buffer): ConnectionOptions {
  const base: ConnectionOptions = { minVersion: 'TLSv1.2', rejectUnauthorized: true };
  if (ca === undefined) return base;
  const key = typeof ca === 'string' ? ca : ca.toString('latin1');
  let context = contexts.get(key);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, ca], minVersion: 'TLSv1.2' });
    contexts.set(key, context);
  }
  return { ...base, secureContext: context };
}
