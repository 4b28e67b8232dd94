import { describe, expect, it } from 'vitest';
import { fixtureWalk, fixtureWith } from '../testing.js';
import { decodeAlerts, decodeErrorState, decodeIdentity, decodePrinterState, findPrinterIndex } from './decode-status.js';
import { parseSnmprec } from './snmprec.js';
import { decodeSnmpString } from './walk.js';

describe('hrPrinterDetectedErrorState (RFC 3805 §2.2.13.2, bits MSB-first)', () => {
  it.each([
    ['20', ['lowToner']],
    ['0400', ['jammed']],
    ['2000', ['lowToner']],
    ['00', []],
    ['', []],
    ['8000', ['lowPaper']],
    ['0080', ['inputTrayMissing']],
    ['0002', ['overduePreventMaint']],
    ['0001', ['bit15']],
    ['4204', ['noPaper', 'offline', 'inputTrayEmpty']],
    ['0010', ['outputNearFull']],
    ['ff', ['lowPaper', 'noPaper', 'lowToner', 'noToner', 'doorOpen', 'jammed', 'offline', 'serviceRequested']],
  ])('0x%s → %j', (hex, names) => {
    expect(decodeErrorState(Buffer.from(hex, 'hex'))).toEqual(names);
  });
});

describe('identity and state from real walks', () => {
  it('Sharp MX-3570N: model from hrDeviceDescr, serial from prtGeneralSerialNumber, warning + lowToner', () => {
    const walk = fixtureWalk('sharp-mx3570n');
    expect(findPrinterIndex(walk)).toBe('1');
    expect(decodeIdentity(walk)).toEqual({
      sysDescr: 'SHARP MX-3570N',
      sysObjectId: '1.3.6.1.4.1.2385.3.1.112.1.2',
      model: 'SHARP MX-3570N',
      serial: '6509415X00',
      serialSource: 'prtGeneralSerialNumber',
    });
    expect(decodePrinterState(walk)).toEqual({
      deviceStatus: 'warning',
      printerStatus: undefined,
      errorState: ['lowToner'],
      alertEvents: undefined,
    });
  });

  it('Brother MFC-L2710DW: model is the printer row, not the NIC sysDescr; serial from the Brother profile', () => {
    const identity = decodeIdentity(fixtureWalk('brother-mfc-l2710dw'));
    expect(identity.model).toBe('Brother MFC-L2710DW series');
    expect(identity.sysDescr).toMatch(/^Brother NC-8300h/);
    expect(identity.serial).toBe('000A5J431816');
    expect(identity.serialSource).toBe('brother:1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.1.0');
  });

  it('falls back to sysDescr when there is no printer row, and finds a printer not at index 1', () => {
    const walk = parseSnmprec(
      [
        '1.3.6.1.2.1.1.1.0|4|Some Printer',
        '1.3.6.1.2.1.25.3.2.1.2.1|6|1.3.6.1.2.1.25.3.1.3',
        '1.3.6.1.2.1.25.3.2.1.2.2|6|1.3.6.1.2.1.25.3.1.5',
        '1.3.6.1.2.1.25.3.2.1.3.2|4|Real Model 9',
        '1.3.6.1.2.1.25.3.5.1.1.2|2|4',
      ].join('\n'),
    );
    expect(findPrinterIndex(walk)).toBe('2');
    expect(decodeIdentity(walk).model).toBe('Real Model 9');
    expect(decodePrinterState(walk).printerStatus).toBe('printing');
    expect(decodeIdentity(parseSnmprec('1.3.6.1.2.1.1.1.0|4|Only Sys')).model).toBe('Only Sys');
  });
});

describe('prtAlertTable', () => {
  it('decodes every row, identified by content, with the description decoded', () => {
    const walk = fixtureWith(
      'sharp-mx3570n',
      [
        '1.3.6.1.2.1.43.18.1.1.2.1.7|2|3',
        '1.3.6.1.2.1.43.18.1.1.4.1.7|2|13',
        '1.3.6.1.2.1.43.18.1.1.5.1.7|2|2',
        '1.3.6.1.2.1.43.18.1.1.6.1.7|2|9102',
        '1.3.6.1.2.1.43.18.1.1.7.1.7|2|8',
        '1.3.6.1.2.1.43.18.1.1.8.1.7|4x|5061706965727374617520656e6761e7616465',
        '1.3.6.1.2.1.43.18.1.1.9.1.7|67|72440000',
        '1.3.6.1.2.1.43.18.1.1.2.1.12|2|4',
        '1.3.6.1.2.1.43.18.1.1.4.1.12|2|11',
        '1.3.6.1.2.1.43.18.1.1.5.1.12|2|4',
        '1.3.6.1.2.1.43.18.1.1.7.1.12|2|1104',
      ].join('\n'),
    );
    expect(decodeAlerts(walk)).toEqual([
      {
        index: '1.7',
        severity: 3,
        training: undefined,
        group: 13,
        groupIndex: 2,
        location: 9102,
        code: 8,
        description: 'Papierstau engaçade',
        time: 72440000,
      },
      {
        index: '1.12',
        severity: 4,
        training: undefined,
        group: 11,
        groupIndex: 4,
        location: undefined,
        code: 1104,
        description: undefined,
        time: undefined,
      },
    ]);
    expect(decodeAlerts(fixtureWalk('sharp-mx3570n'))).toEqual([]);
  });
});

describe('decodeSnmpString', () => {
  it('UTF-8 when valid, else Latin-1, NULs stripped', () => {
    expect(decodeSnmpString(Buffer.from('Tóner negro\0\0', 'utf8'))).toBe('Tóner negro');
    expect(decodeSnmpString(Buffer.from([0x54, 0xf3, 0x6e, 0x65, 0x72]))).toBe('Tóner');
    expect(decodeSnmpString(Buffer.from('トナー', 'utf8'))).toBe('トナー');
    expect(decodeSnmpString(Buffer.from([0, 0]))).toBe('');
  });
});
