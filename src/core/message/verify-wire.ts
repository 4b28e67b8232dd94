/**
 * What the receive loop and its verify workers (verify-pool.ts, verify-worker.ts) send each
 * other. Plain data only: structured clone copies it, nothing is shared.
 */

/**
 * A candidate signer's key (armored or binary), named by a token (crypto/key-cache.ts's
 * keyToken: the SHA-256 of its text or bytes) the worker caches it under.
 */
export interface WireCandidate {
  token: string;
  armored?: string;
  bytes?: Uint8Array;
}

export type WireRequest =
  | { id: number; kind: 'parse'; raw: Uint8Array }
  | { id: number; kind: 'verify'; armored: string; candidates: WireCandidate[]; pickedBy?: string[] };

export interface WireMail {
  from: string;
  subject: string;
  messageId?: string;
  armoredPayload?: string;
  attachments: [string, Uint8Array][];
}

export type WireReply =
  | { id: number; ok: true; mail: WireMail }
  | { id: number; ok: true; data: Uint8Array; index: number }
  /** `code` set: a refusal (SecurityError) with that reason code; else a failure of ours */
  | { id: number; ok: false; code?: string; message: string };
