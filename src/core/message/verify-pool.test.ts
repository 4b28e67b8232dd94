import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../crypto/keys.js';
import { REFUSAL } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { MailInbox, Settlement } from '../mail/types.js';
import { openDb } from '../store/db.js';
import type { AcceptPolicy } from './accept.js';
import { receiveMessages } from './inbound.js';
import { composeMail } from './mail.js';
import { buildPayload, signPayload } from './payload.js';
import { VerifyPool, WorkerFailure } from './verify-pool.js';

// Workers that misbehave (the real one, verify-worker.ts, runs from dist/: test/cli/verify-pool.test.ts)
const WORKERS = {
  // the thread dies on its first job (an uncaught error, as a native crash or OOM would end it)
  crash: `import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => { throw new Error('worker blew up'); });`,
  // exits without a word
  exit: `import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => process.exit(7));`,
  // never answers
  hang: `import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => {});`,
};
// parses (answers with the test's payload) but dies on the signature check
const crashOnVerify = (armoredPayload: string) => `import { parentPort } from 'node:worker_threads';
parentPort.on('message', (job) => {
  if (job.kind !== 'parse') throw new Error('worker blew up in verify');
  parentPort.postMessage({ id: job.id, ok: true, mail: { from: 'a1@example.test', subject: '', armoredPayload: ${JSON.stringify(armoredPayload)}, attachments: [] } });
});`;

let dir: string;
const clock = { now: () => new Date() };
let key: openpgp.PrivateKey;
let raw: Buffer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-verify-pool-'));
  for (const [name, code] of Object.entries(WORKERS)) fs.writeFileSync(path.join(dir, `${name}.mjs`), code);
  const pair = await generateKeyPair('A1', 'a1@example.test');
  key = await openpgp.readPrivateKey({ armoredKey: pair.privateArmored });
  const payload = buildPayload({
    type: 'version-report',
    from: 'A1',
    to: ['HOST'],
    body: { softwareVersion: '1.0.00-1', versionText: '' },
    ttlMs: 60_000,
    clock,
  });
  const armoredPayload = await signPayload(payload, key);
  fs.writeFileSync(path.join(dir, 'crash-on-verify.mjs'), crashOnVerify(armoredPayload));
  raw = (
    await composeMail({
      from: 'a1@example.test',
      to: 'host@example.test',
      subject: 'version report',
      text: '',
      type: 'version-report',
      payloadId: payload.id,
      armoredPayload,
    })
  ).raw;
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const policy = (): AcceptPolicy => ({
  selfId: 'HOST',
  sendersFor: (a) => (a === 'a1@example.test' ? [{ id: 'A1', address: a, key: key.toPublic() }] : []),
  unknownSenderCode: REFUSAL.UNKNOWN_SENDER,
  acceptBroadcast: false,
  wasProcessed: () => false,
  clock,
  skewMs: 60_000,
});

async function passWith(worker: keyof typeof WORKERS | 'crash-on-verify') {
  const pool = new VerifyPool({ size: 1, timeoutMs: 500, workerUrl: pathToFileURL(path.join(dir, `${worker}.mjs`)) });
  const settled: [string, Settlement['kind']][] = [];
  const inbox: MailInbox = {
    async *messages() {
      yield { uid: '1', raw, size: raw.length };
      yield { uid: '2', raw, size: raw.length };
    },
    async settle(m, s) {
      settled.push([m.uid, s.kind]);
    },
    async close() {},
  };
  const db = openDb(fs.mkdtempSync(path.join(dir, 'state-')));
  let handled = 0;
  try {
    const result = await receiveMessages({
      db,
      inbox,
      maxMessageSize: 1_000_000,
      clock,
      logger: silentLogger,
      handlers: {
        'version-report': async () => {
          handled++;
          return 'stored';
        },
      },
      policy: policy(),
      checker: pool,
      ahead: 4,
      batch: 10,
    });
    const recorded = db.prepare('SELECT count(*) AS n FROM processed_messages').get() as { n: number };
    const quarantined = db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number };
    return { result, settled, handled, recorded: recorded.n, quarantined: quarantined.n };
  } finally {
    db.close();
    await pool.close();
  }
}

describe('verify pool: a worker that fails is an error for that mail, never a pass', () => {
  for (const [worker, reason] of [
    ['crash', /verify worker crashed: worker blew up/],
    ['exit', /verify worker exited \(code 7\)/],
    ['hang', /verify worker did not answer within 500 ms/],
    ['crash-on-verify', /verify worker crashed: worker blew up in verify/],
  ] as const) {
    it(`${worker}: both mails stay in the inbox, unacted, and are reported as failed`, async () => {
      const got = await passWith(worker);
      expect(got.result.processed).toEqual([]);
      expect(got.result.quarantined).toEqual([]);
      expect(got.result.failed.map((f) => f.uid)).toEqual(['1', '2']);
      for (const f of got.result.failed) expect(f.error).toMatch(reason);
      expect(got.settled).toEqual([]); // not moved: still in INBOX
      expect(got.handled).toBe(0);
      expect(got.recorded).toBe(0);
      expect(got.quarantined).toBe(0);
    });
  }

  it('a job after a crash gets a new worker (the pool is not left broken)', async () => {
    const pool = new VerifyPool({ size: 1, timeoutMs: 500, workerUrl: pathToFileURL(path.join(dir, 'exit.mjs')) });
    try {
      await expect(pool.parseMail(raw)).rejects.toBeInstanceOf(WorkerFailure);
      await expect(pool.parseMail(raw)).rejects.toThrow(/exited \(code 7\)/);
    } finally {
      await pool.close();
    }
  });
});
