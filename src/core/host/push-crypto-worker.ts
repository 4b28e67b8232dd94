/**
 * A crypto worker of push-all (push-crypto-pool.ts): reads the host key once, then seals
 * each job with sealForAgent, the same function the in-thread path runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as openpgp from 'openpgp';
import type { SessionKey } from '../package/wrap.js';
import { postError, type SealJob, sealForAgent } from './push-crypto.js';

const data = workerData as { hostKey: Uint8Array; sessionKey: SessionKey };
const hostKey = await openpgp.readPrivateKey({ binaryKey: data.hostKey });
if (!hostKey.isDecrypted()) throw new Error('the host key reached the crypto worker locked');
const port = parentPort;
if (!port) throw new Error('push-crypto-worker.js runs as a worker thread only');
port.on('message', async ({ id, job }: { id: number; job: SealJob }) => {
  try {
    port.postMessage({ id, sealed: await sealForAgent(job, data.sessionKey, hostKey) });
  } catch (error) {
    port.postMessage({ id, error: postError(error) });
  }
});
