import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../crypto/keys.js';
import { REFUSAL } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { InboxMessage, MailInbox, Settlement } from '../mail/types.js';
import { openDb } from '../store/db.js';
import { receiveMessages } from './inbound.js';
import { composeMail } from './mail.js';
import { buildPayload, signPayload } from './payload.js';

function fakeInbox(messages: InboxMessage[]) {
  const settled: [string, Settlement['kind']][] = [];
  const inbox: MailInbox = {
    async *messages() {
      yield* messages;
    },
    async settle(m, s) {
      settled.push([m.uid, s.kind]);
    },
    async close() {},
  };
  return { inbox, settled };
}

describe('receiveMessages', () => {
  it('a handler bug leaves that mail in the inbox and handles the next one (no poison pill)', async () => {
    const pair = await generateKeyPair('HOST', 'host@example.test');
    const key = await openpgp.readPrivateKey({ armoredKey: pair.privateArmored });
    const clock = { now: () => new Date() };
    const mail = async (type: 'version-request' | 'counter-request') => {
      const payload = buildPayload({ type, from: 'HOST', to: ['A1'], body: {}, ttlMs: 60_000, clock });
      const { raw } = await composeMail({
        from: 'host@example.test',
        to: 'a1@example.test',
        subject: type,
        text: '',
        type,
        payloadId: payload.id,
        armoredPayload: await signPayload(payload, key),
      });
      return raw;
    };
    const raws = [await mail('counter-request'), await mail('version-request'), Buffer.from('From: nobody@example.test\r\n\r\nhello')];
    const { inbox, settled } = fakeInbox(raws.map((raw, i) => ({ uid: String(i + 1), raw, size: raw.length })));
    const db = openDb(fs.mkdtempSync(path.join(os.tmpdir(), 'rds-inbound-')));
    try {
      const result = await receiveMessages({
        db,
        inbox,
        maxMessageSize: 1_000_000,
        clock,
        logger: silentLogger,
        handlers: {
          'counter-request': async () => {
            throw new TypeError('boom');
          },
          'version-request': async () => 'reported',
        },
        policy: {
          selfId: 'A1',
          sendersFor: (a) => (a === 'host@example.test' ? [{ id: 'HOST', address: a, key: key.toPublic() }] : []),
          unknownSenderCode: REFUSAL.SENDER_MISMATCH,
          acceptBroadcast: true,
          wasProcessed: () => false,
          clock,
          skewMs: 60_000,
        },
      });
      expect(result.failed).toEqual([{ uid: '1', error: 'boom' }]);
      expect(result.processed.map((p) => p.type)).toEqual(['version-request']);
      expect(result.quarantined.map((q) => q.code)).toEqual([REFUSAL.SENDER_MISMATCH]);
      expect(settled).toEqual([
        ['2', 'processed'],
        ['3', 'quarantined'],
      ]);
    } finally {
      db.close();
    }
  });
});
