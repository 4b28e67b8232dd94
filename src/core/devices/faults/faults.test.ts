import { describe, expect, it } from 'vitest';
import { decodeAlerts, decodePrinterState } from '../decoders/decode-status.js';
import { decodeSubunitLabels } from '../decoders/decode-supplies.js';
import { fixtureWalk, fixtureWith } from '../testing.js';
import type { PrinterAlert } from '../types.js';
import { alertFaultCode, deriveFaults, supplySubunit } from './faults.js';

const alert = (code: number, group: number, groupIndex = 1, severity = 3): PrinterAlert => ({
  index: '1.1',
  code,
  group,
  groupIndex,
  severity,
});

describe('prtAlertCode → canonical code (RFC 3805 PrtAlertCodeTC)', () => {
  it.each([
    [3, 6, 'cover-open'],
    [5, 6, 'cover-open'],
    [8, 13, 'jam'],
    [8, 8, 'jam'],
    [9, 8, 'input-tray-missing'],
    [13, 8, 'no-paper'],
    [12, 8, null], // paper low: not tracked
    [13, 11, 'toner-empty'],
    [12, 11, 'toner-low'],
    [14, 11, 'waste-near-full'],
    [15, 11, 'waste-full'],
    [15, 9, 'output-full'],
    [18, 6, 'cover-open'],
    [22, 5, 'offline'],
    [30, 10, 'service-requested'],
    [501, 5, 'door-open'],
    [801, 8, 'input-tray-missing'],
    [807, 8, null],
    [808, 8, 'no-paper'],
    [903, 9, 'output-full'],
    [1001, 10, null], // fuser warming up
    [1004, 10, 'service-requested'],
    [1101, 11, 'toner-empty'],
    [1104, 11, 'toner-low'],
    [1107, 11, 'waste-near-full'],
    [1109, 11, 'waste-full'],
    [1111, 11, null],
    [1112, 11, 'drum-life-over'],
    [1115, 11, 'toner-empty'],
    [4, 6, null], // coverClosed
    [1801, 18, null],
  ])('code %i in group %i → %s', (code, group, expected) => {
    expect(alertFaultCode(alert(code, group))).toBe(expected);
  });

  it('subunitLifeOver on a supply is drum-life-over only for a drum', () => {
    const labels = {
      supplies: new Map([
        [1, 'drum black'],
        [2, 'fuser'],
      ]),
    };
    expect(alertFaultCode(alert(11, 11, 1), labels)).toBe('drum-life-over');
    expect(alertFaultCode(alert(11, 11, 2), labels)).toBe('service-requested');
  });
});

describe('deriveFaults', () => {
  it('Sharp walk: the lowToner bit alone gives one device-wide toner-low warning', () => {
    const walk = fixtureWalk('sharp-mx3570n');
    const state = decodePrinterState(walk);
    expect(deriveFaults(state.errorState, decodeAlerts(walk))).toEqual([
      { code: 'toner-low', subunit: '', severity: 'warning', source: 'hrPrinterDetectedErrorState lowToner' },
    ]);
  });

  it('hand-written alert rows: subunits from the walk, alert rows win over bits, binary-change events ignored', () => {
    const walk = fixtureWith(
      'sharp-mx3570n',
      [
        '1.3.6.1.2.1.25.3.5.1.2.1|4x|2c00', // lowToner + doorOpen + jammed
        // row 3: jam in tray 2 (input 3 is "Tray 2" on this Sharp)
        '1.3.6.1.2.1.43.18.1.1.2.1.3|2|3',
        '1.3.6.1.2.1.43.18.1.1.4.1.3|2|8',
        '1.3.6.1.2.1.43.18.1.1.5.1.3|2|3',
        '1.3.6.1.2.1.43.18.1.1.7.1.3|2|8',
        '1.3.6.1.2.1.43.18.1.1.8.1.3|4|Paper jam in tray 2',
        // row 9: black toner almost empty (supply 4 is "Black Toner")
        '1.3.6.1.2.1.43.18.1.1.2.1.9|2|4',
        '1.3.6.1.2.1.43.18.1.1.4.1.9|2|11',
        '1.3.6.1.2.1.43.18.1.1.5.1.9|2|4',
        '1.3.6.1.2.1.43.18.1.1.7.1.9|2|1104',
        // row 10: front cover open
        '1.3.6.1.2.1.43.18.1.1.2.1.10|2|3',
        '1.3.6.1.2.1.43.18.1.1.4.1.10|2|6',
        '1.3.6.1.2.1.43.18.1.1.5.1.10|2|1',
        '1.3.6.1.2.1.43.18.1.1.7.1.10|2|3',
        // row 11: a binary change event (coverClosed), not a standing condition
        '1.3.6.1.2.1.43.18.1.1.2.1.11|2|5',
        '1.3.6.1.2.1.43.18.1.1.4.1.11|2|6',
        '1.3.6.1.2.1.43.18.1.1.5.1.11|2|1',
        '1.3.6.1.2.1.43.18.1.1.7.1.11|2|4',
        // row 12: waste toner almost full, reported as critical by the device
        '1.3.6.1.2.1.43.18.1.1.2.1.12|2|3',
        '1.3.6.1.2.1.43.18.1.1.4.1.12|2|11',
        '1.3.6.1.2.1.43.18.1.1.5.1.12|2|5',
        '1.3.6.1.2.1.43.18.1.1.7.1.12|2|1107',
      ].join('\n'),
    );
    const faults = deriveFaults(decodePrinterState(walk).errorState, decodeAlerts(walk), decodeSubunitLabels(walk, '1'));
    expect(faults.map((f) => [f.code, f.subunit, f.severity])).toEqual([
      ['jam', 'tray 2', 'critical'],
      ['toner-low', 'toner black', 'warning'],
      ['cover-open', 'cover 1', 'critical'],
      ['waste-near-full', 'waste toner', 'critical'],
    ]);
    expect(faults[0]?.detail).toBe('Paper jam in tray 2');
    expect(faults[0]?.source).toBe('prtAlertCode 8, group 8.3');
  });

  it('bits without alert rows: one fault per condition, device-wide', () => {
    expect(deriveFaults(['noPaper', 'inputTrayEmpty', 'jammed', 'lowPaper', 'outputNearFull'], []).map((f) => f.code)).toEqual([
      'no-paper',
      'jam',
    ]);
  });
});

describe('supplySubunit', () => {
  it.each([
    ['Black Toner Cartridge', 'toner black'],
    ['Cyan Toner', 'toner cyan'],
    ['Waste Toner', 'waste toner'],
    ['Waste Ink Box', 'waste ink'],
    ['Yellow Photoconductive Drum', 'drum yellow'],
    ['Drum Unit', 'drum unit'],
    ['Fusing Unit', 'fusing unit'],
  ])('%s → %s', (description, subunit) => {
    expect(supplySubunit(description)).toBe(subunit);
  });
});
