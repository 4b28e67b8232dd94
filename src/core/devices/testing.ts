/** Test support (not a test file): fixtures, temp state dirs, a settable clock. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../clock.js';
import { type Db, openDb } from '../store/db.js';
import { loadSnmprec, parseSnmprec } from './decoders/snmprec.js';
import { compareOids, type Walk } from './decoders/walk.js';
import type { Entry, SnmpClient } from './drivers/snmp-session.js';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/printers/', import.meta.url));

export function fixtureWalk(name: string): Walk {
  return loadSnmprec(path.join(FIXTURES, `${name}.snmprec`));
}

/** A fixture walk with extra .snmprec lines on top (hand-written alert rows, changes). */
export function fixtureWith(name: string, extra: string): Walk {
  const walk = fixtureWalk(name);
  for (const [oid, value] of parseSnmprec(extra, 'extra')) walk.set(oid, value);
  return walk;
}

export function tempDb(): { db: Db; dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-devices-'));
  const db = openDb(path.join(dir, 'state'));
  const cleanup = () => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { db, dir, cleanup };
}

export function fakeClock(start = '2026-11-24T10:00:00.000Z'): Clock & { advance(ms: number): void; set(iso: string): void } {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
    },
    set: (iso) => {
      now = new Date(iso).getTime();
    },
  };
}

/** Sequential ids, readable in assertions. */
export function counterIds(prefix = 'id'): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

/**
 * An in-memory SNMP agent over a walk, with the SnmpClient interface: GET, GETNEXT and
 * GETBULK with the RFC 3416 semantics (lexicographic OID order, endOfMibView at the end).
 * `requests` counts PDUs, so tests can check round trips.
 */
export function walkClient(walk: Walk, options: { bulk?: boolean; maxRepetitions?: number } = {}): SnmpClient & { requests: number } {
  const oids = [...walk.keys()].sort(compareOids);
  const next = (oid: string): Entry | undefined => {
    const found = oids.find((o) => compareOids(o, oid) > 0);
    return found === undefined ? undefined : { oid: found, value: walk.get(found) };
  };
  const client = {
    requests: 0,
    bulk: options.bulk ?? true,
    async get(list: readonly string[]) {
      client.requests++;
      const out: Walk = new Map();
      for (const oid of list) {
        const v = walk.get(oid);
        if (v) out.set(oid, v);
      }
      return out;
    },
    async getNext(list: readonly string[]) {
      client.requests++;
      return list.map(next);
    },
    async getBulk(nonRepeaters: readonly string[], repeaters: readonly string[], maxRepetitions: number) {
      if (!client.bulk) throw new Error('no GETBULK in SNMPv1');
      client.requests++;
      return {
        nonRepeaters: nonRepeaters.map(next),
        repeaters: repeaters.map((start) => {
          const out: Entry[] = [];
          let cursor = start;
          for (let i = 0; i < maxRepetitions; i++) {
            const e = next(cursor);
            if (!e) {
              out.push({ oid: cursor });
              break;
            }
            out.push(e);
            cursor = e.oid;
          }
          return out;
        }),
      };
    },
    async walk(prefix: string, from = prefix) {
      const out: Walk = new Map();
      let cursor = from;
      for (;;) {
        client.requests++;
        const e = next(cursor);
        if (!e?.value || !e.oid.startsWith(`${prefix}.`)) return out;
        out.set(e.oid, e.value);
        cursor = e.oid;
      }
    },
    close() {},
  };
  return client;
}
