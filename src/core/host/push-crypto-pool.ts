/**
 * The worker-thread pool behind push-crypto.ts: `width` workers, each given the host key
 * and the session key once (in memory, never on disk), then one job per agent. Jobs go to
 * the worker with the fewest in hand; each answer settles its own job. A worker that dies
 * (uncaught error, exit) rejects every job it held: those agents' mails fail, none passes.
 */
import { Worker } from 'node:worker_threads';
import type * as openpgp from 'openpgp';
import type { SessionKey } from '../package/wrap.js';
import { errorFrom, type PostedError, type Sealed, type Sealer, type SealJob } from './push-crypto.js';

interface Pending {
  agentId: string;
  resolve: (sealed: Sealed) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  dead: boolean;
}

type Answer = { id: number; sealed: Sealed } | { id: number; error: PostedError };

export const WORKER_SCRIPT = new URL('./push-crypto-worker.js', import.meta.url);

function failSlot(slot: Slot, why: string): void {
  if (slot.dead) return;
  slot.dead = true;
  for (const [id, job] of slot.pending) {
    slot.pending.delete(id);
    job.reject(new Error(`the crypto worker died while preparing the update mail for ${job.agentId}: ${why}`));
  }
}

function startSlot(script: URL, data: unknown): Slot {
  const slot: Slot = { worker: new Worker(script, { workerData: data }), pending: new Map(), dead: false };
  slot.worker.on('message', (answer: Answer) => {
    const job = slot.pending.get(answer.id);
    if (!job) return;
    slot.pending.delete(answer.id);
    if ('sealed' in answer) job.resolve(answer.sealed);
    else job.reject(errorFrom(answer.error));
  });
  slot.worker.on('error', (error) => failSlot(slot, error.message));
  slot.worker.on('exit', (code) => failSlot(slot, `exited with status ${code}`));
  return slot;
}

export function workerSealer(width: number, sessionKey: SessionKey, hostKey: openpgp.PrivateKey, script = WORKER_SCRIPT): Sealer {
  const data = { hostKey: hostKey.write(), sessionKey: { data: sessionKey.data, algorithm: sessionKey.algorithm } };
  const slots = Array.from({ length: width }, () => startSlot(script, data));
  let nextId = 0;
  return {
    seal(job: SealJob): Promise<Sealed> {
      const live = slots.filter((s) => !s.dead);
      if (live.length === 0) return Promise.reject(new Error(`no crypto worker left to prepare the update mail for ${job.agentId}`));
      const slot = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise<Sealed>((resolve, reject) => {
        slot.pending.set(id, { agentId: job.agentId, resolve, reject });
        slot.worker.postMessage({ id, job });
      });
    },
    async close() {
      await Promise.all(
        slots.map(async (s) => {
          failSlot(s, 'the pool was closed');
          await s.worker.terminate();
        }),
      );
    },
  };
}
