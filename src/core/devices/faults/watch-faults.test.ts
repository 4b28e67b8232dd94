import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../errors.js';
import type { Db } from '../../store/db.js';
import { addDevice, listDevices, removeDevice } from '../device-store.js';
import { counterIds, fakeClock, tempDb } from '../testing.js';
import type { DeviceDriver, FaultCode, FaultHint, FaultSnapshot } from '../types.js';
import {
  listOverdueFaultReports,
  listPendingFaultReports,
  markFaultAcked,
  markFaultAckedByMessage,
  markFaultReported,
  markFaultResent,
  markFaultUnacknowledged,
} from './fault-reports.js';
import { listFaultEvents } from './fault-store.js';
import { FAULT_SEVERITY } from './faults.js';
import { watchFaultsPass } from './watch-faults.js';

type Script = Record<string, Array<Array<[FaultCode, string]> | 'fail'>>;

/** A driver whose answers per device are scripted, one per pass. */
function scriptedDriver(script: Script, hints: FaultHint[] = []): DeviceDriver {
  const step = new Map<string, number>();
  return {
    async pollFaults(device, hint) {
      if (hint) hints.push(hint);
      const i = step.get(device.id) ?? 0;
      step.set(device.id, i + 1);
      const answer = script[device.id]?.[i] ?? [];
      if (answer === 'fail') throw new TransientError('DEVICE_UNREACHABLE', `no SNMP answer from ${device.id}`);
      return {
        errorState: [],
        alerts: [],
        alertsWalked: true,
        faults: answer.map(([code, subunit]) => ({ code, subunit, severity: FAULT_SEVERITY[code], source: 'script' })),
      } satisfies FaultSnapshot;
    },
    readCounters: () => Promise.reject(new Error('not used')),
    identify: () => Promise.reject(new Error('not used')),
  };
}

describe('watchFaultsPass', () => {
  let t: ReturnType<typeof tempDb>;
  let db: Db;
  let clock: ReturnType<typeof fakeClock>;
  beforeEach(() => {
    clock = fakeClock(); // each test starts at the same time, whatever ran before it
    t = tempDb();
    db = t.db;
    addDevice(db, { id: 'mfp-1', driver: 'simulated', config: { file: '/x.json' } }, clock);
    addDevice(db, { id: 'mfp-2', driver: 'simulated', config: { file: '/x.json' } }, clock);
  });
  afterEach(() => t.cleanup());

  it('jam raised → reported once; repeats update last-seen; cleared after two clean polls', async () => {
    const drivers = {
      simulated: scriptedDriver({ 'mfp-1': [[['jam', 'tray 2']], [['jam', 'tray 2']], [], 'fail', []], 'mfp-2': [] }),
    };
    const ids = counterIds('ev');
    const pass = () => {
      clock.advance(60_000);
      return watchFaultsPass(db, listDevices(db), { drivers, clock, newId: ids });
    };
    const first = await pass();
    expect(first.reports.map((r) => [r.kind, r.event.deviceId, r.event.code, r.event.subunit])).toEqual([
      ['raised', 'mfp-1', 'jam', 'tray 2'],
    ]);
    expect(first.reports[0]?.event).toMatchObject({
      eventId: 'ev-1',
      severity: 'critical',
      raisedAt: '2026-11-24T10:01:00.000Z',
      report: { state: 'pending' },
    });

    const second = await pass();
    expect(second.reports).toEqual([]);
    expect(listFaultEvents(db, { open: true })).toMatchObject([{ eventId: 'ev-1', lastSeenAt: '2026-11-24T10:02:00.000Z', cleanPolls: 0 }]);

    expect((await pass()).reports).toEqual([]); // first clean poll
    expect(listFaultEvents(db, { open: true })[0]?.cleanPolls).toBe(1);
    const failedPass = await pass(); // failed poll: clears nothing, counts nothing
    expect(failedPass.failed).toBe(1);
    expect(failedPass.devices.find((d) => d.deviceId === 'mfp-1')?.error?.code).toBe('DEVICE_UNREACHABLE');
    expect(listFaultEvents(db, { open: true })[0]?.cleanPolls).toBe(1);

    const fifth = await pass(); // second clean poll
    expect(fifth.reports.map((r) => [r.kind, r.event.code])).toEqual([['cleared', 'jam']]);
    expect(fifth.reports[0]?.event.clearedAt).toBe('2026-11-24T10:05:00.000Z');
    expect(listFaultEvents(db, { open: true })).toEqual([]);
    expect(listPendingFaultReports(db).map((r) => `${r.kind}:${r.event.eventId}`)).toEqual(['raised:ev-1', 'cleared:ev-1']);
  });

  it('device-unreachable after three failed passes, cleared on the next success; other devices unaffected', async () => {
    const toner: Array<[FaultCode, string]> = [['toner-low', 'toner black']];
    const drivers = {
      simulated: scriptedDriver({ 'mfp-1': ['fail', 'fail', 'fail', 'fail', []], 'mfp-2': [toner, toner, toner, toner, toner] }),
    };
    const kinds: string[][] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      const r = await watchFaultsPass(db, listDevices(db), { drivers, clock, concurrency: 1 });
      kinds.push(r.reports.map((x) => `${x.kind}:${x.event.deviceId}:${x.event.code}`));
    }
    expect(kinds).toEqual([['raised:mfp-2:toner-low'], [], ['raised:mfp-1:device-unreachable'], [], ['cleared:mfp-1:device-unreachable']]);
    const poll = db.prepare('SELECT * FROM device_poll_state WHERE device_id = ?').get('mfp-1') as Record<string, unknown>;
    expect(poll).toMatchObject({ consecutive_failures: 0, last_error: null });
  });

  it('remembers prtAlertAllEvents and the alert row count as the next poll hint', async () => {
    const hints: FaultHint[] = [];
    const driver = scriptedDriver({}, hints);
    const base = driver.pollFaults;
    driver.pollFaults = async (d, h) => ({ ...(await base(d, h)), alertEvents: 17 });
    await watchFaultsPass(db, listDevices(db), { drivers: { simulated: driver }, clock, concurrency: 1 });
    await watchFaultsPass(db, listDevices(db), { drivers: { simulated: driver }, clock, concurrency: 1 });
    expect(hints.slice(-2)).toEqual([
      { alertEvents: 17, alertRows: 0 },
      { alertEvents: 17, alertRows: 0 },
    ]);
  });

  it('every device gets its own open faults and hint back, all read before the pass polls', async () => {
    const seen = new Map<string, FaultHint | undefined>();
    const jam: Array<[FaultCode, string]> = [['jam', 'input tray 1']];
    const driver = scriptedDriver({ 'mfp-1': [jam, jam], 'mfp-2': [[], []] });
    const base = driver.pollFaults;
    driver.pollFaults = async (d, h) => {
      seen.set(d.id, h);
      return { ...(await base(d, h)), alertEvents: d.id === 'mfp-1' ? 17 : 5 };
    };
    const first = await watchFaultsPass(db, listDevices(db), { drivers: { simulated: driver }, clock, concurrency: 2 });
    expect(first.reports.map((r) => `${r.kind}:${r.event.deviceId}`)).toEqual(['raised:mfp-1']);
    clock.advance(60_000);
    const second = await watchFaultsPass(db, listDevices(db), { drivers: { simulated: driver }, clock, concurrency: 2 });
    expect(second.reports).toEqual([]);
    expect(second.devices.map((d) => [d.deviceId, d.transitions.map((t) => t.kind)])).toEqual([
      ['mfp-1', ['seen']],
      ['mfp-2', []],
    ]);
    expect(Object.fromEntries(seen)).toEqual({ 'mfp-1': { alertEvents: 17, alertRows: 0 }, 'mfp-2': { alertEvents: 5, alertRows: 0 } });
  });

  it('a missing driver is a failed poll, not a crash', async () => {
    const r = await watchFaultsPass(db, listDevices(db), { drivers: {}, clock });
    expect(r.failed).toBe(2);
    expect(r.devices[0]?.error?.message).toMatch(/no driver "simulated"/);
  });

  it('report bookkeeping: reported → resent once → unacknowledged; acks by event or by message', async () => {
    const drivers = { simulated: scriptedDriver({ 'mfp-1': [[['jam', '']]], 'mfp-2': [[['no-paper', 'tray 1']]] }) };
    clock.set('2026-11-24T12:00:00.000Z');
    const { reports } = await watchFaultsPass(db, listDevices(db), { drivers, clock, newId: counterIds('e') });
    const [a, b] = reports.map((r) => r.event.eventId) as [string, string];
    expect(markFaultReported(db, a, 'raised', '<m1@agent>', clock.now())).toBe(true);
    expect(markFaultReported(db, a, 'raised', '<m1@agent>', clock.now())).toBe(false); // not pending any more
    expect(markFaultReported(db, b, 'raised', '<m2@agent>', clock.now())).toBe(true);
    expect(listPendingFaultReports(db)).toEqual([]);

    const window = 30 * 60_000;
    expect(listOverdueFaultReports(db, new Date('2026-11-24T12:29:00.000Z'), window)).toEqual({ resend: [], giveUp: [] });
    const due = listOverdueFaultReports(db, new Date('2026-11-24T12:30:00.000Z'), window);
    expect(due.resend.map((r) => r.event.eventId)).toEqual([a, b]);
    expect(markFaultResent(db, a, 'raised', '<m3@agent>', new Date('2026-11-24T12:30:00.000Z'))).toBe(true);
    expect(markFaultResent(db, a, 'raised', '<m4@agent>', new Date('2026-11-24T12:31:00.000Z'))).toBe(false); // once only
    expect(markFaultAckedByMessage(db, '<m2@agent>', new Date('2026-11-24T12:31:00.000Z'))).toBe(1);

    const later = listOverdueFaultReports(db, new Date('2026-11-24T13:00:00.000Z'), window);
    expect(later).toMatchObject({ resend: [], giveUp: [{ kind: 'raised', event: { eventId: a } }] });
    expect(markFaultUnacknowledged(db, a, 'raised')).toBe(true);
    expect(markFaultAcked(db, a, 'raised', new Date('2026-11-24T13:05:00.000Z'))).toBe(true); // a late ack still counts
    expect(listFaultEvents(db).map((e) => [e.eventId, e.report.state, e.report.messageId])).toEqual([
      [a, 'acked', '<m3@agent>'],
      [b, 'acked', '<m2@agent>'],
    ]);
  });

  it('removing a device closes its open events without a clear report', async () => {
    const drivers = { simulated: scriptedDriver({ 'mfp-1': [[['jam', '']]] }) };
    await watchFaultsPass(db, listDevices(db), { drivers, clock });
    expect(removeDevice(db, 'mfp-1', clock)).toBe(true);
    expect(removeDevice(db, 'mfp-1', clock)).toBe(false);
    const [event] = listFaultEvents(db, { deviceId: 'mfp-1' });
    expect(event?.clearedAt).toBeDefined();
    expect(event?.clearReport).toBeUndefined();
    expect(listPendingFaultReports(db).map((r) => r.kind)).toEqual(['raised']);
  });

  it('the database itself refuses a second open event with the same key', () => {
    const insert = db.prepare(
      "INSERT INTO fault_events (event_id, device_id, code, subunit, severity, source, raised_at, last_seen_at) VALUES (?, 'mfp-1', 'jam', '', 'critical', 't', 'x', 'x')",
    );
    insert.run('one');
    expect(() => insert.run('two')).toThrow(/UNIQUE/);
  });
});
