/**
 * Sharp's private counter table: `…2385.1.1.19.2.1.3.<service>.<sub>.<kind>` holds Counter32
 * values and `…19.2.1.4.<same index>` their labels. Read from a real MX-3570N walk:
 *   service.sub  1.4 print   4.4 copy   5.4 all services   5.5 other   6.4 feeder   7.4 scan
 *   kind         60 all colours   61 black & white   63 full colour   64 two colour
 *                80 single colour   75 duplex   70 feeder   50–53 scanner
 * In that walk 5.4.61 + 5.4.63 = prtMarkerLifeCount, and 5.4.61 = 1.4.61 + 4.4.61 + 5.5.61.
 * Rows of services not in the table are placed by their label (Fax, Print, Copy, Scan).
 */
import { addFigure, emptyFigures, type Field } from '../counters/figures.js';
import type { CounterFigures } from '../types.js';
import { sumServicesIntoTop } from './counters-pwg.js';
import { SHARP } from './oids.js';
import { columnEntries, getString, type Walk } from './walk.js';

const SERVICES: Record<string, string> = { '1.4': 'print', '4.4': 'copy', '5.4': 'totals', '5.5': 'other', '7.4': 'scan' };
const KINDS: Record<number, Field> = { 60: 'total', 61: 'mono', 63: 'colour', 64: 'colour', 80: 'colour', 51: 'mono', 53: 'colour' };
const PROFILE = 'sharp';
const COUNTER32_WRAP = 2 ** 32;

export function decodeSharpCounters(walk: Walk): CounterFigures | null {
  const rows = columnEntries(walk, SHARP.counters);
  if (rows.length === 0) return null;
  const figures = emptyFigures();
  figures.unit = 'impressions';
  const totals: Partial<Record<Field, number>> = {};
  for (const [index, value] of rows) {
    if (value.type !== 65 && value.type !== 2 && value.type !== 66) continue;
    const parts = index.split('.');
    const label = getString(walk, `${SHARP.labels}.${index}`) ?? '';
    const service = SERVICES[`${parts[0]}.${parts[1]}`] ?? serviceFromLabel(label);
    const field = KINDS[Number(parts[2])] ?? fieldFromLabel(label);
    if (!service || !field) continue; // duplex, feeder, scan-to-e-mail: not impressions by colour
    const oid = `${SHARP.counters}.${index}`;
    const source = { profile: PROFILE, oids: [oid], wrapAt: value.type === 65 ? COUNTER32_WRAP : undefined };
    if (service === 'totals') {
      totals[field] = (totals[field] ?? 0) + value.value;
      addFigure(figures, { group: 'top', field }, value.value, source);
    } else {
      addFigure(figures, { group: 'byService', key: service, field }, value.value, source);
    }
  }
  fillTotals(figures);
  if (Object.keys(totals).length === 0) sumServicesIntoTop(figures);
  fillTop(figures);
  return figures;
}

function serviceFromLabel(label: string): string | undefined {
  if (/fax/i.test(label)) return 'fax';
  if (/scan/i.test(label)) return 'scan';
  if (/cop(y|ies)/i.test(label)) return 'copy';
  if (/print/i.test(label)) return 'print';
  if (/other/i.test(label)) return 'other';
  return undefined;
}

function fieldFromLabel(label: string): Field | undefined {
  if (/black\s*&\s*white|\bb\/?w\b|mono/i.test(label)) return 'mono';
  if (/colou?r/i.test(label)) return 'colour';
  return undefined;
}

/** A service whose "all colours" counter is missing gets total = mono + colour. */
function fillTotals(figures: CounterFigures): void {
  for (const [name, set] of Object.entries(figures.byService)) {
    if (set.total !== undefined || set.mono === undefined || set.colour === undefined) continue;
    const sources = [`byService.${name}.mono`, `byService.${name}.colour`].map((p) => figures.sources[p]);
    addFigure(figures, { group: 'byService', key: name, field: 'total' }, set.mono + set.colour, {
      profile: PROFILE,
      oids: sources.flatMap((s) => s?.oids ?? []),
    });
  }
}

function fillTop(figures: CounterFigures): void {
  if (figures.total !== undefined || figures.mono === undefined || figures.colour === undefined) return;
  const oids = [figures.sources.mono, figures.sources.colour].flatMap((s) => s?.oids ?? []);
  addFigure(figures, { group: 'top', field: 'total' }, figures.mono + figures.colour, { profile: PROFILE, oids });
}
