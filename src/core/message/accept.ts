import type * as openpgp from 'openpgp';
import type { Clock } from '../clock.js';
import { cachedArmoredKey } from '../crypto/key-cache.js';
import { verifySignedDataByAny } from '../crypto/signed-data.js';
import { REFUSAL, SecurityError } from '../errors.js';
import { type SignerLookup, verifyBySigner } from './accept-signer.js';
import { ALL_AGENTS, decodePayload, type Payload } from './payload.js';

/**
 * Who may send to this node: the host (agent side) or a registered agent (host side), with
 * its pinned key, parsed or armored (the host's registry hands out the armored text: the
 * verify workers parse it, once per process, only where it is needed).
 */
export type TrustedSender = { id: string; address: string } & (
  | { key: openpgp.PublicKey; armoredKey?: undefined }
  | { armoredKey: string; key?: undefined }
);

export interface AcceptPolicy {
  selfId: string;
  /** The senders allowed to use this From address (usually one; agents may share a mailbox). */
  sendersFor(fromAddress: string): TrustedSender[] | Promise<TrustedSender[]>;
  /** (host) the sender found by the signature's issuer first, not among every sender of the address (accept-signer.ts) */
  bySigner?: SignerLookup;
  /** code used when no sender matches: SENDER_MISMATCH (agent) or UNKNOWN_SENDER (host) */
  unknownSenderCode: typeof REFUSAL.SENDER_MISMATCH | typeof REFUSAL.UNKNOWN_SENDER;
  /** accept payloads addressed to every agent ('*') */
  acceptBroadcast: boolean;
  wasProcessed(id: string): boolean;
  clock: Clock;
  /** allowance for clocks that disagree (issuedAt in the future, expiresAt just passed) */
  skewMs: number;
}

export interface AcceptedMessage {
  payload: Payload;
  sender: TrustedSender;
}

/**
 * The signature check of rule 3: the signed bytes and which candidate's key verified them.
 * In process by default; the host's inbox passes a worker pool's (verify-pool.ts), which
 * runs this same function on the same bytes.
 */
export type SignatureVerifier = (
  armored: string,
  senders: TrustedSender[],
  pickedBy?: readonly string[],
) => Promise<{ data: Uint8Array; index: number }>;

/** The signature check in this thread: verifySignedDataByAny over the senders' keys. */
export async function verifyInProcess(
  armored: string,
  senders: TrustedSender[],
  pickedBy?: readonly string[],
): Promise<{ data: Uint8Array; index: number }> {
  const keys = await Promise.all(senders.map((s) => s.key ?? cachedArmoredKey(s.armoredKey)));
  return verifySignedDataByAny(armored, keys, pickedBy);
}

export function normaliseAddress(address: string): string {
  return address.trim().toLowerCase();
}

/**
 * Every rule of docs/protocol.md#what-the-receiver-checks-in-order, in order, before
 * anything acts on a message. The From address is only a cheap first filter (the original
 * system trusted it alone, and anyone can forge it); the decision rests on the signature by
 * the one key pinned for that sender.
 */
export async function acceptMessage(
  fromAddress: string,
  armoredPayload: string | undefined,
  policy: AcceptPolicy,
): Promise<AcceptedMessage> {
  const accepted = await checkMessage(fromAddress, armoredPayload, policy);
  checkReplay(accepted.payload, policy);
  return accepted;
}

/**
 * Every rule but the last (replay), in order. The receive loop may run this for a few mails
 * ahead of the one it acts on; the replay rule depends on what was acted on before, so it is
 * checked (checkReplay) just before acting, still after every other rule.
 */
export async function checkMessage(
  fromAddress: string,
  armoredPayload: string | undefined,
  policy: AcceptPolicy,
  verify: SignatureVerifier = verifyInProcess,
): Promise<AcceptedMessage> {
  const address = normaliseAddress(fromAddress);
  const { bySigner } = policy;
  const senders = bySigner ? undefined : await policy.sendersFor(address);
  if (senders ? senders.length === 0 : !(await bySigner?.known(address))) {
    throw new SecurityError(policy.unknownSenderCode, `mail from '${fromAddress}' is not from a trusted sender`);
  }
  if (armoredPayload === undefined) throw new SecurityError(REFUSAL.NOT_SIGNED, 'mail carries no signed payload');
  const { data: bytes, sender } =
    senders === undefined && bySigner
      ? await verifyBySigner(address, armoredPayload, bySigner, policy, verify)
      : await verifyAmong(armoredPayload, senders ?? [], verify);
  const payload = decodePayload(bytes);
  if (payload.from !== sender.id) {
    // a validly signed payload lifted from another conversation (mix-and-match)
    throw new SecurityError(REFUSAL.SENDER_ID_MISMATCH, `payload says it is from '${payload.from}', mail is from '${sender.id}'`);
  }
  const forMe = payload.to.includes(policy.selfId) || (policy.acceptBroadcast && payload.to.includes(ALL_AGENTS));
  if (!forMe) {
    throw new SecurityError(
      REFUSAL.NOT_FOR_ME,
      `payload ${payload.id} is addressed to ${payload.to.slice(0, 5).join(',')}, not to ${policy.selfId}`,
    );
  }
  checkFreshness(payload, policy.clock, policy.skewMs);
  return { payload, sender };
}

/** Rule 3 over every candidate sender: the signed bytes and whose key verified them. */
async function verifyAmong(armored: string, senders: TrustedSender[], verify: SignatureVerifier) {
  const { data, index } = await verify(armored, senders);
  return { data, sender: senders[index] as TrustedSender };
}

/** The last rule: a payload id acted on before is a replay. */
export function checkReplay(payload: Payload, policy: Pick<AcceptPolicy, 'wasProcessed'>): void {
  if (policy.wasProcessed(payload.id)) {
    throw new SecurityError(REFUSAL.REPLAYED, `payload ${payload.id} was processed before (replay)`);
  }
}

/** Expired commands and commands from the future are refused (freeze and pre-play attacks). */
export function checkFreshness(payload: Payload, clock: Clock, skewMs: number): void {
  const now = clock.now().getTime();
  const issued = Date.parse(payload.issuedAt);
  const expires = Date.parse(payload.expiresAt);
  if (issued > now + skewMs) {
    throw new SecurityError(
      REFUSAL.FROM_FUTURE,
      `payload ${payload.id} was issued at ${payload.issuedAt}, in the future beyond the ${Math.round(skewMs / 1000)}s clock-skew allowance`,
    );
  }
  if (expires + skewMs < now) {
    throw new SecurityError(REFUSAL.EXPIRED, `payload ${payload.id} expired at ${payload.expiresAt}`);
  }
  if (expires < issued) throw new SecurityError(REFUSAL.MALFORMED, `payload ${payload.id} expires before it was issued`);
}
