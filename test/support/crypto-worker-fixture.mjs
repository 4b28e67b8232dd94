// A stand-in for dist/core/host/push-crypto-worker.js in src/core/host/push-crypto.test.ts:
// answers by the job's agent id: 'CRASH' kills the worker (an uncaught error), 'EXIT' ends
// it, 'BAD' posts a UsageError, 'SECURITY' a SecurityError; any other id is sealed as
// `pkesk = <id>`, `armoredPayload = <payload id>` (and the worker's number, to see the spread).
import { parentPort, threadId } from 'node:worker_threads';

parentPort.on('message', ({ id, job }) => {
  if (job.agentId === 'CRASH') throw new Error('simulated crash');
  if (job.agentId === 'EXIT') process.exit(7);
  if (job.agentId === 'BAD') {
    parentPort.postMessage({ id, error: { name: 'UsageError', code: 'BAD_KEY', message: `key of ${job.agentId}: not a key` } });
    return;
  }
  if (job.agentId === 'SECURITY') {
    parentPort.postMessage({ id, error: { name: 'SecurityError', code: 'BAD_SIGNATURE', message: 'bad' } });
    return;
  }
  parentPort.postMessage({ id, sealed: { pkesk: job.agentId, armoredPayload: `${job.payload.id}@${threadId}` } });
});
