// The host's service pass over a real SQLite store (migrated like the host's): supply
// events raised, escalated and cleared; agent and device silence raised and cleared.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../store/db.js';
import { listHostEvents, recordDeviceSeen, recordHeard, servicePass, storeSupplyLevels } from './host-events.js';
import { serviceSettings } from './settings.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-20T08:00:00Z');
const at = (d: number) => new Date(T0 + d * DAY);
const settings = serviceSettings({ service: { supplies: { thresholds: { drum: { low: 8, empty: 3 } } } } });
let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'i17-host-events-'));
  db = openDb(dir);
  db.prepare(
    "INSERT INTO agents (id, address, public_key, fingerprint, note, added_at) VALUES ('A1', 'a1@x.example', 'k', 'F1', '', ?)",
  ).run(at(0).toISOString());
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const reading = (d: number, toner: number, drum: number) => ({
  deviceId: 'mfp-1',
  readAt: at(d).toISOString(),
  readingId: `r-${d}`,
  supplies: [
    { index: '1', description: 'Black Toner', type: 'toner', class: 'consumed', percent: toner },
    { index: '2', description: 'Drum Unit', type: 'opc', class: 'consumed', percent: drum },
  ],
});
const open = () => listHostEvents(db, { open: true }).map((e) => `${e.kind}:${e.subject || e.agentId}`);

describe('supply events', () => {
  it('low, then empty (low cleared as went empty), then replaced (cleared); per-kind thresholds for the drum', () => {
    recordHeard(db, 'A1', 'counter-report', at(0));
    storeSupplyLevels(db, 'A1', reading(0, 25, 9), settings, at(0));
    expect(servicePass(db, settings, at(0)).raised).toEqual([]);
    storeSupplyLevels(db, 'A1', reading(1, 18, 7), settings, at(1));
    recordHeard(db, 'A1', 'counter-report', at(1));
    expect(servicePass(db, settings, at(1)).raised.map((e) => `${e.kind}:${e.subject}`)).toEqual([
      'supply-low:Black Toner',
      'supply-low:Drum Unit',
    ]);
    storeSupplyLevels(db, 'A1', reading(2, 9, 7), settings, at(2));
    recordHeard(db, 'A1', 'counter-report', at(2));
    const escalated = servicePass(db, settings, at(2));
    expect(escalated.cleared.map((e) => [e.kind, e.clearReason])).toEqual([['supply-low', 'went empty: Black Toner at 9%']]);
    expect(open()).toEqual(['supply-low:Drum Unit', 'supply-empty:Black Toner']);
    storeSupplyLevels(db, 'A1', reading(3, 100, 7), settings, at(3));
    recordHeard(db, 'A1', 'counter-report', at(3));
    expect(servicePass(db, settings, at(3)).cleared.map((e) => [e.kind, e.clearReason])).toEqual([
      ['supply-empty', 'replaced: Black Toner at 100%'],
    ]);
    expect(open()).toEqual(['supply-low:Drum Unit']);
    // the same pass again changes nothing
    expect(servicePass(db, settings, at(3))).toEqual({ raised: [], cleared: [] });
  });

  it('a reading arriving late (older than the latest) does not move the latest level', () => {
    storeSupplyLevels(db, 'A1', reading(5, 50, 50), settings, at(5));
    storeSupplyLevels(db, 'A1', reading(4, 15, 50), settings, at(6));
    recordHeard(db, 'A1', 'counter-report', at(6));
    expect(servicePass(db, settings, at(6)).raised).toEqual([]);
  });
});

describe('silence', () => {
  it('agent-silent after the window (never heard: since registration), cleared when heard', () => {
    expect(servicePass(db, settings, at(1)).raised).toEqual([]);
    expect(servicePass(db, settings, at(2.5)).raised.map((e) => [e.kind, e.detail])).toEqual([
      ['agent-silent', `never heard (registered ${at(0).toISOString()})`],
    ]);
    recordHeard(db, 'A1', 'heartbeat', at(2.6));
    expect(servicePass(db, settings, at(2.7)).cleared.map((e) => e.kind)).toEqual(['agent-silent']);
  });

  it('device-silent when the agent speaks but its device has not answered for the window; not while the agent itself is silent', () => {
    recordHeard(db, 'A1', 'heartbeat', at(0));
    recordDeviceSeen(db, 'A1', 'mfp-1', at(0).toISOString(), at(0));
    recordHeard(db, 'A1', 'heartbeat', at(3));
    recordDeviceSeen(db, 'A1', 'mfp-1', null, at(3)); // the agent still watches it; no newer answer
    expect(servicePass(db, settings, at(3)).raised.map((e) => `${e.kind}:${e.deviceId}:${e.detail}`)).toEqual([
      `device-silent:mfp-1:last answered ${at(0).toISOString()}`,
    ]);
    recordDeviceSeen(db, 'A1', 'mfp-1', at(3.1).toISOString(), at(3.1));
    expect(servicePass(db, settings, at(3.2)).cleared.map((e) => e.kind)).toEqual(['device-silent']);
    // the agent goes quiet: one agent-silent, no device-silent on top
    const later = servicePass(db, settings, at(9));
    expect(later.raised.map((e) => e.kind)).toEqual(['agent-silent']);
  });
});
