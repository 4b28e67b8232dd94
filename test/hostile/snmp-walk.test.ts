// A hostile SNMP agent on the customer LAN, seen through the walk loop of the SNMP client
// (src/core/devices/drivers/snmp-session.ts) over a fake net-snmp session: answers that do not
// move forward (the same OID again, an earlier one) and a table that never ends. The walk
// must end with a typed error (TransientError), never loop for ever. The fake session stops
// answering after many requests, so a walk that does not stop fails here instead of hanging.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { openSnmpClient, PRT } from '../../src/core/devices/index.js';
import { isRdsError, TransientError } from '../../src/core/errors.js';
import { hostileTally } from './helpers.js';

type Varbind = { oid: string; type: number; value: unknown };
const device = vi.hoisted(() => ({
  /** what the fake agent answers for one GETBULK/GETNEXT starting at `cursor` */
  answer: (_cursor: string, _n: number): Array<{ oid: string; type: number; value: unknown }> => [],
  requests: 0,
}));

vi.mock('net-snmp', () => {
  const LIMIT = 20_000;
  const session = {
    on: () => {},
    close: () => {},
    getBulk: (oids: string[], _nonRepeaters: number, max: number, cb: (e: Error | null, r?: unknown) => void) => {
      if (++device.requests > LIMIT) return cb(new Error(`the walk did not stop after ${LIMIT} requests`));
      cb(null, [device.answer(oids[0] as string, max)]);
    },
    getNext: (oids: string[], cb: (e: Error | null, r?: unknown) => void) => {
      if (++device.requests > LIMIT) return cb(new Error(`the walk did not stop after ${LIMIT} requests`));
      cb(null, device.answer(oids[0] as string, 1).slice(0, 1));
    },
    get: (_oids: string[], cb: (e: Error | null, r?: unknown) => void) => cb(null, []),
  };
  const snmp = {
    Version1: 0,
    Version2c: 1,
    Version3: 3,
    SecurityLevel: {},
    AuthProtocols: {},
    PrivProtocols: {},
    ErrorStatus: { NoSuchName: 2 },
    isVarbindError: () => false,
    createSession: () => session,
    createV3Session: () => session,
  };
  return { default: snmp, ...snmp };
});

const { hostileCase } = hostileTally('snmp-walk');
const TABLE = PRT.alertCode;

beforeEach(() => {
  device.requests = 0;
});

const CASES: { name: string; version: '1' | '2c'; answer: (cursor: string, n: number) => Varbind[] }[] = [
  { name: 'the same OID again and again (GETBULK)', version: '2c', answer: () => [{ oid: `${TABLE}.1.1`, type: 2, value: 8 }] },
  { name: 'the same OID again and again (v1 GETNEXT)', version: '1', answer: () => [{ oid: `${TABLE}.1.1`, type: 2, value: 8 }] },
  {
    name: 'an OID before the one asked for',
    version: '2c',
    answer: (cursor) => [{ oid: cursor === TABLE ? `${TABLE}.1.5` : `${TABLE}.1.2`, type: 2, value: 8 }],
  },
  {
    name: 'rows in a loop within one answer',
    version: '2c',
    answer: () => [1, 2, 3, 1, 2, 3].map((i) => ({ oid: `${TABLE}.1.${i}`, type: 2, value: 8 })),
  },
  {
    name: 'a table that never ends (always the next row)',
    version: '2c',
    answer: (cursor, n) => {
      const last = cursor === TABLE ? 0 : Number(cursor.split('.').at(-1));
      return Array.from({ length: n }, (_, i) => ({ oid: `${TABLE}.1.${last + i + 1}`, type: 2, value: 8 }));
    },
  },
];

describe('SNMP walks of a hostile agent end with a typed error, never loop', () => {
  it('control: an honest table of 45 rows is walked whole', async () => {
    device.answer = (cursor, n) => {
      const last = cursor === TABLE ? 0 : Number(cursor.split('.').at(-1));
      return Array.from({ length: n }, (_, i) => last + i + 1).map((row) =>
        row <= 45
          ? { oid: `${TABLE}.1.${row}`, type: 2, value: 8 }
          : { oid: `${PRT.alertDescription}.1.1`, type: 4, value: Buffer.from('x') },
      );
    };
    const client = await openSnmpClient({ address: '192.0.2.1', version: '2c', community: 'public' });
    try {
      expect((await client.walk(TABLE)).size).toBe(45);
    } finally {
      client.close();
    }
  });

  for (const c of CASES) {
    hostileCase(`DEVICE_ERROR: ${c.name} (SNMP v${c.version})`, async () => {
      device.answer = c.answer;
      const client = await openSnmpClient({ address: '192.0.2.1', version: c.version, community: 'public' });
      let error: unknown;
      try {
        await client.walk(TABLE);
      } catch (e) {
        error = e;
      } finally {
        client.close();
      }
      expect(isRdsError(error), String((error as Error)?.message)).toBe(true);
      expect(error).toBeInstanceOf(TransientError);
      expect((error as TransientError).code).toBe('DEVICE_ERROR');
      // refused by the walk itself, not by the fake agent giving up
      expect((error as Error).message).not.toMatch(/did not stop/);
    });
  }
});
