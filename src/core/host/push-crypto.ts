/**
 * The per-agent OpenPGP work of an update mail (docs/protocol.md#message-types): the agent's
 * registered key read, the package's session key wrapped for it (one PKESK), the payload
 * signed with the host key. `sealForAgent` is that work, the one function both ways run:
 * in this thread (a few agents, `rds export-update`) or in a pool of worker threads
 * (push-all and rollout waves to many agents), so the SMTP pool never waits for crypto.
 * The same checks on the same bytes either way; a job that fails, or a worker that dies
 * with jobs in hand, is an error for those agents' mails (never a pass).
 */
import { availableParallelism } from 'node:os';
import type * as openpgp from 'openpgp';
import { RdsError, SecurityError, TransientError, UsageError } from '../errors.js';
import type { Payload } from '../message/payload.js';
import type { SessionKey } from '../package/wrap.js';

/** What the crypto adds to one agent's recipe. */
export interface Sealed {
  /** the wrapped session key (base64) */
  pkesk: string;
  armoredPayload: string;
}

export interface SealJob {
  agentId: string;
  publicKey: string;
  payload: Payload<unknown>;
}

/** Seals jobs; `close` ends any workers (call it in a finally). */
export interface Sealer {
  seal(job: SealJob): Promise<Sealed>;
  close(): Promise<void>;
}

export async function sealForAgent(job: SealJob, sessionKey: SessionKey, hostKey: openpgp.PrivateKey): Promise<Sealed> {
  const { readPublicKey } = await import('../crypto/keys.js');
  const { wrapSessionKey } = await import('../package/wrap.js');
  const { signPayload } = await import('../message/payload.js');
  const agentKey = await readPublicKey(job.publicKey, `key of ${job.agentId}`);
  const pkesk = await wrapSessionKey(sessionKey, agentKey);
  return { pkesk: Buffer.from(pkesk).toString('base64'), armoredPayload: await signPayload(job.payload, hostKey) };
}

export function inThreadSealer(sessionKey: SessionKey, hostKey: openpgp.PrivateKey): Sealer {
  return { seal: (job) => sealForAgent(job, sessionKey, hostKey), close: async () => {} };
}

/** Below this many mails the workers' start-up (~100 ms each) costs more than it saves. */
export const WORKER_THRESHOLD = 16;

/** How many worker threads for `mails` mails: none for a few, else one per CPU (at most 4). */
export function workerCount(mails: number, cpus = availableParallelism()): number {
  return mails < WORKER_THRESHOLD ? 0 : Math.max(1, Math.min(4, cpus));
}

/** The sealer for `mails` mails: worker threads when there are enough of them, else this thread. */
export async function openSealer(mails: number, sessionKey: SessionKey, hostKey: openpgp.PrivateKey): Promise<Sealer> {
  const width = workerCount(mails);
  if (width === 0) return inThreadSealer(sessionKey, hostKey);
  const { workerSealer } = await import('./push-crypto-pool.js');
  return workerSealer(width, sessionKey, hostKey);
}

/** An error as a worker posts it (structured clone keeps no class). */
export interface PostedError {
  name: string;
  code?: string;
  message: string;
}

export function postError(error: unknown): PostedError {
  if (error instanceof RdsError) return { name: error.name, code: error.code, message: error.message };
  return { name: 'Error', message: error instanceof Error ? error.message : String(error) };
}

/** The posted error as the class it was, so exit codes and reason codes stay those of the in-thread path. */
export function errorFrom(posted: PostedError): Error {
  const code = posted.code ?? 'INTERNAL';
  if (posted.name === 'UsageError') return new UsageError(code, posted.message);
  if (posted.name === 'SecurityError') return new SecurityError(code as never, posted.message);
  if (posted.name === 'TransientError') return new TransientError(code, posted.message);
  return new Error(posted.message);
}
