/**
 * Byte-level OpenPGP packet framing (RFC 9580 §4.2), just enough to cut the leading
 * session-key packets (PKESK, tag 1; SKESK, tag 3) off an encrypted message and put other
 * ones in front of the same encrypted data. Re-serialising parsed packets with openpgp's
 * PacketList does not round-trip, so this is done on bytes.
 */
import { REFUSAL, SecurityError } from '../errors.js';

export interface PacketHeader {
  tag: number;
  headerLength: number;
  /** body length, or -1 for partial / indeterminate lengths */
  bodyLength: number;
}

export function readPacketHeader(bytes: Uint8Array, offset: number): PacketHeader {
  const first = bytes[offset];
  if (first === undefined) throw truncated(offset);
  if ((first & 0x80) === 0) {
    throw new SecurityError(REFUSAL.PACKAGE_TAMPERED, `byte ${offset}: not an OpenPGP packet header`);
  }
  if (first & 0x40) {
    // new format: tag in the low six bits, then a one-, two- or five-octet length
    const tag = first & 0x3f;
    const l0 = bytes[offset + 1];
    if (l0 === undefined) throw truncated(offset);
    if (l0 < 192) return { tag, headerLength: 2, bodyLength: l0 };
    if (l0 < 224) {
      const l1 = bytes[offset + 2];
      if (l1 === undefined) throw truncated(offset);
      return { tag, headerLength: 3, bodyLength: ((l0 - 192) << 8) + l1 + 192 };
    }
    if (l0 === 255) {
      if (offset + 6 > bytes.length) throw truncated(offset);
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset + 2, 4);
      return { tag, headerLength: 6, bodyLength: view.getUint32(0) };
    }
    return { tag, headerLength: 2, bodyLength: -1 }; // partial body length
  }
  // legacy format: tag in bits 5..2, length type in bits 1..0
  const tag = (first >> 2) & 0x0f;
  const lengthType = first & 0x03;
  if (lengthType === 3) return { tag, headerLength: 1, bodyLength: -1 };
  const size = 1 << lengthType;
  if (offset + 1 + size > bytes.length) throw truncated(offset);
  let length = 0;
  for (let i = 0; i < size; i++) length = length * 256 + (bytes[offset + 1 + i] as number);
  return { tag, headerLength: 1 + size, bodyLength: length };
}

function truncated(offset: number): SecurityError {
  return new SecurityError(REFUSAL.PACKAGE_TRUNCATED, `package ends inside a packet header at byte ${offset}`);
}

const SESSION_KEY_TAGS = new Set([1, 3]);

/**
 * Length of the run of session-key packets at the start of a binary OpenPGP message.
 * Everything after it is the encrypted data shared by every recipient.
 */
export function sessionKeyPrefixLength(bytes: Uint8Array): number {
  let offset = 0;
  while (offset < bytes.length) {
    const header = readPacketHeader(bytes, offset);
    if (!SESSION_KEY_TAGS.has(header.tag)) return offset;
    if (header.bodyLength < 0) {
      throw new SecurityError(REFUSAL.PACKAGE_TAMPERED, 'session-key packet with an indeterminate length');
    }
    offset += header.headerLength + header.bodyLength;
  }
  throw new SecurityError(REFUSAL.PACKAGE_TRUNCATED, 'package holds no encrypted data after its session-key packets');
}
