import type { Clock } from '../clock.js';
import { REFUSAL } from '../errors.js';
import type { AcceptPolicy, TrustedSender } from '../message/accept.js';
import { wasProcessed } from '../message/inbound.js';
import type { Db } from '../store/db.js';
import { findAgentsByAddress } from './registry.js';

/**
 * Host side: mail is trusted only from a registered agent's address, signed by that
 * agent's registered key (another agent's key is UNKNOWN_KEY, an unregistered address
 * UNKNOWN_SENDER).
 */
export function hostPolicy(db: Db, selfId: string, clock: Clock, skewMs: number): AcceptPolicy {
  const cache = new Map<string, Promise<TrustedSender[]>>();
  // the armored key as registered: parsed where the signature is checked, once per process (crypto/key-cache.ts)
  const lookup = async (address: string): Promise<TrustedSender[]> =>
    findAgentsByAddress(db, address).map((agent) => ({ id: agent.id, address: agent.address, armoredKey: agent.publicKey }));
  return {
    selfId,
    sendersFor: (address) => {
      let found = cache.get(address);
      if (!found) {
        found = lookup(address);
        cache.set(address, found);
      }
      return found;
    },
    unknownSenderCode: REFUSAL.UNKNOWN_SENDER,
    acceptBroadcast: false,
    wasProcessed: (id) => wasProcessed(db, id),
    clock,
    skewMs,
  };
}
