/**
 * Who signed an armored inline-signed message, read from its packets without openpgp: the
 * host picks the one agent whose key to check (by the indexed fingerprint) instead of
 * parsing the key of every agent that shares the mail's From address.
 *
 * Only a selector, never a check: the signature is still checked by openpgp on the same
 * bytes (signed-data.ts), which also insists that the message names exactly the key IDs read
 * here (`issuers`), or falls back to every candidate. So this reads only the one shape rds
 * signs (RFC 9580: one v3 one-pass signature, literal data, one v4 signature carrying an
 * issuer fingerprint subpacket) and answers `undefined` for anything else.
 */

import { readBodyLength } from './packet-length.js';

export interface SignatureIssuer {
  /** the one-pass signature's issuer key ID, lower-case hex (as openpgp's getSigningKeyIDs) */
  keyId: string;
  /** the signature's issuer fingerprint (v4 key: its last 64 bits are keyId), upper-case hex */
  fingerprint: string;
}

const TAG = { signature: 2, onePassSignature: 4, literalData: 11 } as const;
const SUBPACKET_ISSUER_FINGERPRINT = 33;
const ARMOR_BEGIN = '-----BEGIN PGP MESSAGE-----';
const ARMOR_END = '-----END PGP MESSAGE-----';
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;
const HEADER_LINE = /^[A-Za-z][A-Za-z0-9-]*: /;

/** The armored message's bytes: headers, blank line, base64 lines, an optional checksum line. */
export function dearmorMessage(armored: string): Uint8Array | undefined {
  const lines = armored.trim().split(/\r?\n/);
  if (lines[0]?.trimEnd() !== ARMOR_BEGIN || lines.at(-1)?.trimEnd() !== ARMOR_END) return undefined;
  let i = 1;
  while (i < lines.length - 1 && HEADER_LINE.test(lines[i] as string)) i++;
  if ((lines[i] ?? 'x').trim() !== '') return undefined;
  const body: string[] = [];
  for (i++; i < lines.length - 1; i++) {
    const line = (lines[i] as string).trimEnd();
    if (line.startsWith('=') && line.length === 5 && i === lines.length - 2) break; // the CRC-24 checksum
    if (!BASE64_LINE.test(line)) return undefined;
    body.push(line);
  }
  return body.length === 0 ? undefined : new Uint8Array(Buffer.from(body.join(''), 'base64'));
}

interface Packet {
  tag: number;
  body: Uint8Array;
}

/** Packet bodies joined from partial body lengths; undefined when the bytes are not packets. */
function readPackets(bytes: Uint8Array): Packet[] | undefined {
  const packets: Packet[] = [];
  let at = 0;
  while (at < bytes.length) {
    const head = bytes[at++] as number;
    if ((head & 0x80) === 0) return undefined;
    if ((head & 0x40) === 0) return undefined; // old-format packets: not what rds (openpgp.js) writes
    const tag = head & 0x3f;
    const parts: Uint8Array[] = [];
    for (;;) {
      const length = readBodyLength(bytes, at);
      if (!length) return undefined;
      at += length.size;
      if (at + length.length > bytes.length) return undefined;
      parts.push(bytes.subarray(at, at + length.length));
      at += length.length;
      if (!length.partial) break;
    }
    packets.push({ tag, body: parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts) });
  }
  return packets;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** The issuer fingerprint subpacket of a v4 signature (hashed area first), 20 bytes; undefined when none. */
function issuerFingerprintOf(sig: Uint8Array): Uint8Array | undefined {
  if (sig[0] !== 4 || sig.length < 6) return undefined;
  let at = 4;
  for (let area = 0; area < 2; area++) {
    const size = ((sig[at] as number) << 8) | (sig[at + 1] as number);
    const end = at + 2 + size;
    if (end > sig.length) return undefined;
    for (let p = at + 2; p < end; ) {
      const o1 = sig[p] as number;
      let length: number;
      if (o1 < 192) [length, p] = [o1, p + 1];
      else if (o1 < 255) [length, p] = [((o1 - 192) << 8) + (sig[p + 1] as number) + 192, p + 2];
      else [length, p] = [Buffer.from(sig.subarray(p + 1, p + 5)).readUInt32BE(0), p + 5];
      if (length < 1 || p + length > end) return undefined;
      const type = (sig[p] as number) & 0x7f;
      if (type === SUBPACKET_ISSUER_FINGERPRINT && length === 22 && sig[p + 1] === 4) return sig.subarray(p + 2, p + 22);
      p += length;
    }
    at = end;
  }
  return undefined;
}

/** The signer of an armored message of rds's shape (see above), or undefined. */
export function signatureIssuer(armored: string): SignatureIssuer | undefined {
  const bytes = dearmorMessage(armored);
  const packets = bytes && readPackets(bytes);
  if (packets?.length !== 3) return undefined;
  const [ops, literal, sig] = packets as [Packet, Packet, Packet];
  if (ops.tag !== TAG.onePassSignature || literal.tag !== TAG.literalData || sig.tag !== TAG.signature) return undefined;
  // v3 one-pass signature: version, type, hash, public-key algorithm, key ID (8), nested flag
  if (ops.body.length !== 13 || ops.body[0] !== 3 || ops.body[12] !== 1) return undefined;
  const keyId = hex(ops.body.subarray(4, 12));
  const fingerprint = issuerFingerprintOf(sig.body);
  if (!fingerprint || hex(fingerprint.subarray(12)) !== keyId) return undefined;
  return { keyId, fingerprint: hex(fingerprint).toUpperCase() };
}
