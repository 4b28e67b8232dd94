/**
 * Inline-signed OpenPGP messages (RFC 9580 §10.3: one-pass signature + literal data +
 * signature), ASCII-armored so they travel in mail and verify with `gpg --decrypt`.
 * The payload is signed as binary literal data so no line-ending canonicalisation can
 * change what was signed.
 */
import * as openpgp from 'openpgp';
import { REFUSAL, SecurityError } from '../errors.js';
import { keyIdsOf } from './keys.js';

export async function signData(data: Uint8Array, signingKey: openpgp.PrivateKey): Promise<string> {
  const message = await openpgp.createMessage({ binary: data });
  return openpgp.sign({ message, signingKeys: signingKey, format: 'armored' });
}

export const MAX_SIGNED_PAYLOAD = 4 * 1024 * 1024;

/**
 * Verify an armored signed message against the one key trusted for this sender and return
 * the signed bytes. Each refusal has its own code: no signature at all (NOT_SIGNED), a
 * signature by any other key (UNKNOWN_KEY: e.g. an agent's key posing as the host), and
 * a signature by the right key over other bytes (BAD_SIGNATURE: tampering).
 */
export async function verifySignedData(armored: string, trusted: openpgp.PublicKey): Promise<Uint8Array> {
  return (await verifySignedDataByAny(armored, [trusted])).data;
}

/**
 * The same, when several keys may be trusted for one address (agents sharing a mailbox):
 * the signature's issuer picks the key, and `index` says which one verified.
 */
export async function verifySignedDataByAny(
  armored: string,
  candidates: openpgp.PublicKey[],
  pickedBy?: readonly string[],
): Promise<{ data: Uint8Array; index: number }> {
  return verifySignedDataWith(armored, candidates.map(candidateOf), pickedBy);
}

/**
 * A key that may have signed: its key IDs and fingerprint pick it, and only the picked
 * one is needed as a parsed key (a worker parses it from its bytes on first use).
 */
export interface SignerCandidate {
  keyIds: ReadonlySet<string>;
  /** upper-case hex, for the refusal's message */
  fingerprint: string;
  key(): openpgp.PublicKey | Promise<openpgp.PublicKey>;
}

const candidates = new WeakMap<openpgp.PublicKey, SignerCandidate>();

/** A parsed key as a candidate (remembered per key object: a cached key is asked again and again). */
export function candidateOf(key: openpgp.PublicKey): SignerCandidate {
  let found = candidates.get(key);
  if (!found) {
    found = { keyIds: keyIdsOf(key), fingerprint: key.getFingerprint().toUpperCase(), key: () => key };
    candidates.set(key, found);
  }
  return found;
}

/**
 * verifySignedDataByAny over candidates: the same checks, in the same order. `pickedBy`: the
 * candidates were picked by these key IDs (signature-issuer.ts read them without openpgp);
 * a message that names other ones, as openpgp reads it, is UNKNOWN_KEY here and the caller
 * asks again with every candidate.
 */
export async function verifySignedDataWith(
  armored: string,
  candidates: SignerCandidate[],
  pickedBy?: readonly string[],
): Promise<{ data: Uint8Array; index: number }> {
  if (armored.length > MAX_SIGNED_PAYLOAD) {
    throw new SecurityError(REFUSAL.OVERSIZE, `signed payload is ${armored.length} bytes (at most ${MAX_SIGNED_PAYLOAD})`);
  }
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ armoredMessage: armored });
  } catch (error) {
    throw new SecurityError(REFUSAL.NOT_SIGNED, `payload is not an OpenPGP message (${(error as Error).message})`, {
      cause: error,
    });
  }
  const issuers = message.getSigningKeyIDs().map((id) => id.toHex().toLowerCase());
  if (issuers.length === 0) throw new SecurityError(REFUSAL.NOT_SIGNED, 'payload carries no signature');
  if (pickedBy && pickedBy.join() !== issuers.join()) {
    throw new SecurityError(
      REFUSAL.UNKNOWN_KEY,
      `payload is signed by key ID ${issuers.join(', ')}, not as picked (${pickedBy.join(', ')})`,
    );
  }
  const index = candidates.findIndex((c) => issuers.some((id) => c.keyIds.has(id)));
  const picked = candidates[index];
  if (!picked) {
    // a signature names only a key ID (the last 16 hex of a fingerprint); the trusted keys are shown in full
    const expected = candidates.map((c) => c.fingerprint).join(', ');
    throw new SecurityError(
      REFUSAL.UNKNOWN_KEY,
      `payload is signed by key ID ${issuers.map((i) => i.toUpperCase()).join(', ')}, not by the trusted key ${expected || '(none)'}`,
    );
  }
  const trusted = await picked.key();
  const trustedIds = keyIdsOf(trusted);
  let result: openpgp.VerifyMessageResult<Uint8Array>;
  try {
    result = await openpgp.verify({ message, verificationKeys: trusted, format: 'binary' });
  } catch (error) {
    throw new SecurityError(REFUSAL.BAD_SIGNATURE, `signature check failed: ${(error as Error).message}`, { cause: error });
  }
  for (const signature of result.signatures) {
    if (!trustedIds.has(signature.keyID.toHex().toLowerCase())) continue;
    try {
      await signature.verified;
      return { data: result.data, index };
    } catch (error) {
      throw new SecurityError(REFUSAL.BAD_SIGNATURE, `signature does not verify: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  throw new SecurityError(REFUSAL.UNKNOWN_KEY, 'no signature by the trusted key');
}
