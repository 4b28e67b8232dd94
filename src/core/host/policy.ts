import type { Clock } from '../clock.js';
import { REFUSAL } from '../errors.js';
import type { AcceptPolicy, TrustedSender } from '../message/accept.js';
import { wasProcessed } from '../message/inbound.js';
import type { Db } from '../store/db.js';
import { findAgentsByAddress } from './registry.js';
import { addressInUse, agentsWithKeyAt } from './signer-lookup.js';

/**
 * Host side: mail is trusted only from a registered agent's address, signed by that
 * agent's registered key (another agent's key is UNKNOWN_KEY, an unregistered address
 * UNKNOWN_SENDER). The signer is looked up by the signature's issuer (bySigner,
 * message/accept-signer.ts); every agent of the address only when that finds none. Nothing
 * is kept per mail or per agent: per pass, only whether each From address seen is an agent's.
 */
export function hostPolicy(db: Db, selfId: string, clock: Clock, skewMs: number): AcceptPolicy {
  const known = new Map<string, boolean>();
  // the armored key as registered: parsed where the signature is checked (crypto/key-cache.ts)
  const sendersFor = (address: string): TrustedSender[] =>
    findAgentsByAddress(db, address).map((agent) => ({ id: agent.id, address: agent.address, armoredKey: agent.publicKey }));
  return {
    selfId,
    sendersFor,
    bySigner: {
      known: (address) => {
        let found = known.get(address);
        if (found === undefined) {
          found = addressInUse(db, address);
          known.set(address, found);
        }
        return found;
      },
      signers: (address, fingerprint) => agentsWithKeyAt(db, address, fingerprint),
    },
    unknownSenderCode: REFUSAL.UNKNOWN_SENDER,
    acceptBroadcast: false,
    wasProcessed: (id) => wasProcessed(db, id),
    clock,
    skewMs,
  };
}
