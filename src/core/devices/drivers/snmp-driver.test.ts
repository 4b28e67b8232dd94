import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSnmprec, parseSnmprec } from '../decoders/snmprec.js';
import { fixtureWalk, fixtureWith, walkClient } from '../testing.js';
import { pollFaults, readCounters } from './snmp-driver.js';

const jamRows = (row: number) =>
  [
    `1.3.6.1.2.1.43.18.1.1.2.1.${row}|2|3`,
    `1.3.6.1.2.1.43.18.1.1.4.1.${row}|2|8`,
    `1.3.6.1.2.1.43.18.1.1.5.1.${row}|2|2`,
    `1.3.6.1.2.1.43.18.1.1.7.1.${row}|2|8`,
    `1.3.6.1.2.1.43.18.1.1.8.1.${row}|4|Jam`,
  ].join('\n');

describe('SNMP driver fetch plans (over an in-memory agent)', () => {
  it('v2c: the whole fault poll is one GETBULK when the alert table is empty', async () => {
    const client = walkClient(fixtureWalk('sharp-mx3570n'));
    const snapshot = await pollFaults(client, { alertRows: 0 });
    expect(client.requests).toBe(1);
    expect(snapshot).toMatchObject({ deviceStatus: 'warning', errorState: ['lowToner'], alerts: [], alertsWalked: true });
    expect(snapshot.faults.map((f) => f.code)).toEqual(['toner-low']);
  });

  it('v2c: alert rows beyond maxRepetitions are walked to the end; names of subunits fetched once', async () => {
    const walk = fixtureWith('sharp-mx3570n', [jamRows(4), jamRows(9), jamRows(20)].join('\n'));
    walk.set('1.3.6.1.2.1.43.18.1.1.5.1.9', { type: 2, value: 3 });
    const client = walkClient(walk);
    const snapshot = await pollFaults(client, { alertRows: 0 });
    expect(snapshot.alerts.map((a) => a.index)).toEqual(['1.4', '1.9', '1.20']);
    expect(snapshot.faults.map((f) => `${f.code}/${f.subunit}`)).toEqual(['jam/tray 1', 'jam/tray 2', 'toner-low/']);
    const sized = walkClient(walk);
    await pollFaults(sized, { alertRows: 3 }); // enough repetitions for every row: bulk + labels
    expect(sized.requests).toBe(2);
  });

  it('v2c: a printer that is not hrDeviceIndex 1 is found from hrPrinterTable', async () => {
    const walk = parseSnmprec(
      [
        '1.3.6.1.2.1.25.3.2.1.5.1|2|2', // a CPU, running
        '1.3.6.1.2.1.25.3.2.1.5.3|2|5', // the printer, down
        '1.3.6.1.2.1.25.3.5.1.1.3|2|1',
        '1.3.6.1.2.1.25.3.5.1.2.3|4x|0400',
        '1.3.6.1.2.1.43.5.1.1.19.3|65|2',
        '1.3.6.1.2.1.43.18.1.1.2.3.1|2|3', // prtAlertTable rows are indexed by the printer's hrDeviceIndex
        '1.3.6.1.2.1.43.18.1.1.4.3.1|2|13',
        '1.3.6.1.2.1.43.18.1.1.5.3.1|2|1',
        '1.3.6.1.2.1.43.18.1.1.7.3.1|2|8',
      ].join('\n'),
    );
    const snapshot = await pollFaults(walkClient(walk), undefined);
    expect(snapshot).toMatchObject({ deviceStatus: 'down', printerStatus: 'other', errorState: ['jammed'], alertEvents: 2 });
    expect(snapshot.faults.map((f) => f.code)).toEqual(['jam']);
  });

  it('v1: GET then walk; the walk is skipped while prtAlertAllEvents has not moved and the table was empty', async () => {
    const walk = fixtureWith('sharp-mx3570n', '1.3.6.1.2.1.43.5.1.1.19.1|65|7');
    const first = walkClient(walk, { bulk: false });
    expect((await pollFaults(first, undefined)).alertsWalked).toBe(true);
    const same = walkClient(walk, { bulk: false });
    const skipped = await pollFaults(same, { alertEvents: 7, alertRows: 0 });
    expect(skipped).toMatchObject({ alertsWalked: false, alertEvents: 7, faults: [{ code: 'toner-low' }] });
    expect(same.requests).toBe(1);
    const moved = walkClient(fixtureWith('sharp-mx3570n', `1.3.6.1.2.1.43.5.1.1.19.1|65|8\n${jamRows(5)}`), { bulk: false });
    expect((await pollFaults(moved, { alertEvents: 7, alertRows: 0 })).faults.map((f) => f.code)).toEqual(['jam', 'toner-low']);
  });

  it('counters: a typical printer is read in two requests (GETNEXT of everything, GETBULK of its tables)', async () => {
    const client = walkClient(loadSnmprec(fileURLToPath(new URL('../../../../scripts/testbed/printer.snmprec', import.meta.url))));
    const snapshot = await readCounters(client);
    expect(client.requests).toBe(2);
    expect(snapshot).toMatchObject({ identity: { serial: 'SN-0001', model: 'Spike Test LaserJet 9000' }, figures: { total: 12345 } });
    expect(snapshot.supplies).toMatchObject([{ description: 'Black Toner Cartridge', percent: 80 }]);
  });

  it('counters: a printer that is not the first hrDeviceTable row', async () => {
    const walk = parseSnmprec(
      [
        '1.3.6.1.2.1.1.1.0|4|Box',
        '1.3.6.1.2.1.25.3.2.1.2.1|6|1.3.6.1.2.1.25.3.1.3',
        '1.3.6.1.2.1.25.3.2.1.2.2|6|1.3.6.1.2.1.25.3.1.5',
        '1.3.6.1.2.1.25.3.2.1.3.1|4|CPU',
        '1.3.6.1.2.1.25.3.2.1.3.2|4|Printer Two',
        '1.3.6.1.2.1.43.5.1.1.17.2|4|SER-2',
        '1.3.6.1.2.1.43.10.2.1.4.2.1|65|777',
      ].join('\n'),
    );
    const snapshot = await readCounters(walkClient(walk));
    expect(snapshot.identity).toMatchObject({ model: 'Printer Two', serial: 'SER-2' });
    expect(snapshot.figures.total).toBe(777);
  });

  it('counters: probe the eight tables in one GETNEXT, walk only those present', async () => {
    const client = walkClient(fixtureWalk('sharp-mx3570n'));
    const snapshot = await readCounters(client);
    expect(snapshot.identity.serial).toBe('6509415X00');
    expect(snapshot.figures.total).toBe(121104);
    expect(snapshot.supplies).toHaveLength(14);
    const brother = await readCounters(walkClient(fixtureWalk('brother-mfc-l2710dw'), { bulk: false }));
    expect(brother.identity).toMatchObject({ serial: '000A5J431816', model: 'Brother MFC-L2710DW series' });
    expect(brother.figures.total).toBeUndefined();
  });
});
