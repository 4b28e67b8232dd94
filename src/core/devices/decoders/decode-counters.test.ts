import { describe, expect, it } from 'vitest';
import { fixtureWalk } from '../testing.js';
import { decodeCounters } from './decode-counters.js';
import { decodeSupplies } from './decode-supplies.js';

const SHARP = '1.3.6.1.4.1.2385.1.1.19.2.1.3';
const PWG = '1.3.6.1.4.1.2699.1.3.1';

describe('counters', () => {
  it('Sharp profile: service × colour, totals that match prtMarkerLifeCount, every figure sourced', () => {
    const f = decodeCounters(fixtureWalk('sharp-mx3570n'));
    expect({ total: f.total, mono: f.mono, colour: f.colour, unit: f.unit }).toEqual({
      total: 121104,
      mono: 91164,
      colour: 29940,
      unit: 'impressions',
    });
    expect(f.byService).toEqual({
      print: { total: 82214, mono: 53631, colour: 28583 },
      copy: { total: 38804, mono: 37485, colour: 1319 },
      other: { mono: 48, colour: 38, total: 86 },
      scan: { mono: 6170, colour: 7364, total: 13534 },
    });
    expect(f.byPaperSize).toEqual({});
    expect(f.sources.mono).toEqual({ profile: 'sharp', oids: [`${SHARP}.5.4.61`], wrapAt: 2 ** 32 });
    expect(f.sources.colour?.oids).toEqual([`${SHARP}.5.4.63`, `${SHARP}.5.4.64`, `${SHARP}.5.4.80`]);
    expect(f.sources.colour?.wrapAt).toBeUndefined(); // a sum cannot be unwrapped
    expect(f.sources.total?.oids).toHaveLength(4);
    expect(f.sources['byService.print.total']).toEqual({ profile: 'sharp', oids: [`${SHARP}.1.4.60`], wrapAt: 2 ** 32 });
    // every figure has a source
    for (const path of ['total', 'mono', 'colour', 'byService.copy.mono', 'byService.other.total', 'byService.scan.total']) {
      expect(f.sources[path], path).toBeDefined();
    }
  });

  it('PWG Imaging Counter MIB (hand-written walk): lifetime work totals, services, paper sizes in sheets', () => {
    const f = decodeCounters(fixtureWalk('pwg-counter-handwritten'));
    expect({ total: f.total, mono: f.mono, colour: f.colour }).toEqual({ total: 50000, mono: 38000, colour: 12000 });
    expect(f.byService).toEqual({
      print: { total: 30000, mono: 22000, colour: 8000 },
      copy: { total: 18000, mono: 14500, colour: 3500 },
      fax: { total: 2000, mono: 1500, colour: 500 },
    });
    expect(f.byPaperSize).toEqual({
      iso_a4_210x297mm: { total: 41000, mono: 32000, colour: 9000 },
      'na_letter_8.5x11in': { total: 6000, mono: 4000, colour: 2000 },
      iso_a3_297x420mm: { total: 3000, mono: 2500, colour: 500 },
    });
    expect(f.paperSizeUnit).toBe('sheets');
    expect(f.sources.total).toEqual({ profile: 'pwg-imaging-counter', oids: [`${PWG}.8.1.1.4.1.3.3`], wrapAt: 2 ** 31 });
    expect(f.sources['byPaperSize.iso_a4_210x297mm.total']?.oids).toEqual([`${PWG}.12.1.1.4.1.1.3`, `${PWG}.12.1.1.4.1.4.3`]);
  });

  it('falls back to prtMarkerLifeCount, and gives nothing for a device without counters', () => {
    const walk = fixtureWalk('brother-mfc-l2710dw');
    expect(decodeCounters(walk)).toEqual({ byService: {}, byPaperSize: {}, sources: {} });
    walk.set('1.3.6.1.2.1.43.10.2.1.4.1.1', { type: 65, value: 4321 });
    walk.set('1.3.6.1.2.1.43.10.2.1.3.1.1', { type: 2, value: 7 });
    const f = decodeCounters(walk);
    expect(f.total).toBe(4321);
    expect(f.unit).toBe('impressions');
    expect(f.sources.total).toEqual({ profile: 'printer-mib', oids: ['1.3.6.1.2.1.43.10.2.1.4.1.1'], wrapAt: 2 ** 32 });
  });
});

describe('supplies (RFC 3805 prtMarkerSuppliesTable)', () => {
  it('Sharp: 14 supplies, waste toner is a receptacle, −2 max gives no percentage', () => {
    const supplies = decodeSupplies(fixtureWalk('sharp-mx3570n'));
    expect(supplies).toHaveLength(14);
    expect(supplies[0]).toMatchObject({
      index: '1.1',
      description: 'Cyan Toner',
      class: 'consumed',
      type: 'toner',
      max: 100,
      level: 55,
      percent: 55,
      levelState: 'known',
    });
    expect(supplies[4]).toMatchObject({ description: 'Waste Toner', class: 'receptacle', type: 'wasteToner', max: -2, level: 100 });
    expect(supplies[4]?.percent).toBeUndefined();
    expect(supplies[13]).toMatchObject({ description: 'Fusing Unit', type: 'fuser', levelState: 'unknown' });
    expect(supplies[13]?.percent).toBeUndefined();
  });

  it('Brother: level −3 is "some remaining"; a receptacle with a known level reports fullness', () => {
    const supplies = decodeSupplies(fixtureWalk('brother-mfc-l2710dw'));
    expect(supplies[0]).toMatchObject({ description: 'Black Toner Cartridge', levelState: 'some-remaining' });
    expect(supplies[0]?.percent).toBeUndefined();
    expect(supplies[1]).toMatchObject({ description: 'Drum Unit', type: 'opc', percent: 96 });
    const walk = fixtureWalk('sharp-mx3570n');
    walk.set('1.3.6.1.2.1.43.11.1.1.8.1.5', { type: 2, value: 200 });
    walk.set('1.3.6.1.2.1.43.11.1.1.9.1.5', { type: 2, value: 50 }); // 50 of 200 left → 75 % full
    expect(decodeSupplies(walk)[4]).toMatchObject({ class: 'receptacle', percent: 75 });
  });
});
