import { addFigure, emptyFigures } from '../counters/figures.js';
import type { CounterFigures } from '../types.js';
import { decodePwgCounters } from './counters-pwg.js';
import { decodeSharpCounters } from './counters-sharp.js';
import { PRT } from './oids.js';
import { columnEntries, getInt, type Walk } from './walk.js';

/** RFC 3805 PrtMarkerCounterUnitTC. */
const MARKER_UNITS: Record<number, string> = {
  3: 'tenThousandthsOfInches',
  4: 'micrometers',
  5: 'characters',
  6: 'lines',
  7: 'impressions',
  8: 'sheets',
  9: 'dotRow',
  11: 'hours',
  16: 'feet',
  17: 'meters',
};

/**
 * prtMarkerLifeCount (RFC 3805 §2.2.8): the marker's lifetime count in prtMarkerCounterUnit,
 * summed over the printer's markers. It has no service or colour split; it is the figure of
 * last resort, and it is a Counter32, so it can wrap at 2^32.
 */
export function decodeMarkerLifeCount(walk: Walk, printerIndex: string): CounterFigures | null {
  const rows = columnEntries(walk, `${PRT.markerLifeCount}.${printerIndex}`);
  if (rows.length === 0) return null;
  const figures = emptyFigures();
  for (const [marker, value] of rows) {
    if (typeof value.value !== 'number') continue;
    const oid = `${PRT.markerLifeCount}.${printerIndex}.${marker}`;
    addFigure(figures, { group: 'top', field: 'total' }, value.value, {
      profile: 'printer-mib',
      oids: [oid],
      wrapAt: value.type === 65 ? 2 ** 32 : undefined,
    });
    const unit = getInt(walk, `${PRT.markerCounterUnit}.${printerIndex}.${marker}`);
    if (unit !== undefined) figures.unit = MARKER_UNITS[unit] ?? String(unit);
  }
  return figures.total === undefined ? null : figures;
}

/**
 * The counters of one device, from the best source it offers: the PWG Imaging Counter MIB,
 * else a vendor profile, else prtMarkerLifeCount. A profile without a grand total borrows
 * prtMarkerLifeCount's (with its source). A device with none gives empty figures.
 */
export function decodeCounters(walk: Walk, printerIndex = '1'): CounterFigures {
  const life = decodeMarkerLifeCount(walk, printerIndex);
  const profile = decodePwgCounters(walk) ?? decodeSharpCounters(walk);
  if (!profile) return life ?? emptyFigures();
  if (profile.total === undefined && life?.total !== undefined) {
    profile.total = life.total;
    const source = life.sources.total;
    if (source) profile.sources.total = source;
  }
  return profile;
}
