/**
 * key-rotation (host → agent): a new host key (armored public key and its fingerprint),
 * announced in a message signed by the current, pinned key (docs/protocol.md). The agent
 * checks that the key reads and matches the fingerprint before it re-pins. Extra fields are
 * ignored.
 */
import { type BodyCodec, Decoder } from './decoder.js';

export const KEY_ROTATION = 'key-rotation';

export interface KeyRotationBody {
  newKey: string;
  fingerprint: string;
}

export function encodeKeyRotation(body: KeyRotationBody): Record<string, unknown> {
  return { newKey: body.newKey, fingerprint: body.fingerprint };
}

export function decodeKeyRotation(value: unknown): KeyRotationBody {
  const d: Decoder = new Decoder('key rotation');
  const b = d.object(value, 'body');
  const lacks = 'key rotation lacks newKey/fingerprint';
  if (typeof b.newKey !== 'string') d.refuse('newKey', lacks);
  if (typeof b.fingerprint !== 'string') d.refuse('fingerprint', lacks);
  return { newKey: b.newKey, fingerprint: b.fingerprint };
}

export const keyRotation: BodyCodec<KeyRotationBody> = { encode: encodeKeyRotation, decode: decodeKeyRotation };
