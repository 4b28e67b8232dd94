/**
 * Rule 3 (the signature) on the host, where many agents may share one From address (10,000
 * agents on 20 mailboxes: 500 candidates each): the signature's issuer, read from the
 * payload's packets without openpgp (crypto/signature-issuer.ts), picks the one agent of that
 * address whose key has its fingerprint (an indexed lookup), and only that key is parsed and
 * checked. Anything else takes the path every receiver takes, over every sender of the
 * address, so the outcome is the one it always was:
 * - no agent of the address has that fingerprint (another agent's key, the host's own, an
 *   unknown one; or a payload not of rds's shape): every sender's key, as before
 *   (UNKNOWN_KEY naming them all, or a signing subkey of one of them);
 * - openpgp reads other issuers than were picked by, or the picked key made no signature:
 *   UNKNOWN_KEY from the pick, then every sender's key;
 * - the picked key's signature is bad: BAD_SIGNATURE, as with every key (the pick is the same).
 * The one case that could differ: two registered keys with the same 64-bit key ID, where the
 * full list's first would be tried and here the one with the signature's fingerprint is.
 */
import { signatureIssuer } from '../crypto/signature-issuer.js';
import { MAX_SIGNED_PAYLOAD } from '../crypto/signed-data.js';
import { REFUSAL, SecurityError } from '../errors.js';
import type { AcceptPolicy, SignatureVerifier, TrustedSender } from './accept.js';

/** How a host finds an address's senders by their key (host/policy.ts). */
export interface SignerLookup {
  /** whether any sender uses this (normalised) address: rule 1 */
  known(address: string): boolean | Promise<boolean>;
  /** the senders of this address whose key has this fingerprint (upper-case hex), in registry order */
  signers(address: string, fingerprint: string): TrustedSender[] | Promise<TrustedSender[]>;
}

const unknownKey = (error: unknown) => error instanceof SecurityError && error.code === REFUSAL.UNKNOWN_KEY;

/** The signed bytes and the sender whose key verified them (rule 3), found by the signer first. */
export async function verifyBySigner(
  address: string,
  armored: string,
  lookup: SignerLookup,
  policy: Pick<AcceptPolicy, 'sendersFor'>,
  verify: SignatureVerifier,
): Promise<{ data: Uint8Array; sender: TrustedSender }> {
  const issuer = armored.length <= MAX_SIGNED_PAYLOAD ? signatureIssuer(armored) : undefined;
  const picked = issuer ? await lookup.signers(address, issuer.fingerprint) : [];
  if (issuer && picked.length > 0) {
    try {
      const { data, index } = await verify(armored, picked, [issuer.keyId]);
      return { data, sender: picked[index] as TrustedSender };
    } catch (error) {
      if (!unknownKey(error)) throw error;
    }
  } else if (!issuer) {
    // not of rds's shape: the checks before any key is picked (size, OpenPGP, a signature at
    // all) refuse it without parsing every key of the address; those that pass go on below
    await verify(armored, []).catch((error: unknown) => {
      if (!unknownKey(error)) throw error;
    });
  }
  const every = await policy.sendersFor(address);
  const { data, index } = await verify(armored, every);
  return { data, sender: every[index] as TrustedSender };
}
