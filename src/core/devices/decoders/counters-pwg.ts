import { addFigure, emptyFigures } from '../counters/figures.js';
import type { CounterFigures } from '../types.js';
import { PWG_IC } from './oids.js';
import { columnEntries, getInt, getString, hasSubtree, type Walk } from './walk.js';

/** PWG IcServiceTypeTC → the service names rds reports. */
const SERVICES: Record<number, string> = {
  1: 'other',
  2: 'other',
  3: 'totals',
  4: 'copy',
  5: 'email',
  6: 'email',
  7: 'fax',
  8: 'fax',
  9: 'fax',
  10: 'fax',
  11: 'print',
  12: 'scan',
  13: 'other',
};
/** IcWorkTypeTC workTotals(3) and IcPersistenceTC lifetime(3): the meter a contract bills. */
const WORK_TOTALS = 3;
const LIFETIME = 3;
/** IcCounter32 is an Integer32 in 0..2^31−1 that wraps to 0 (PWG 5106.1). */
const IC_WRAP = 2 ** 31;
const PROFILE = 'pwg-imaging-counter';

/**
 * Counters from the PWG Imaging System Counter MIB (PWG 5106.1 semantics, module
 * 1.3.6.1.4.1.2699.1.3): icKeyTable names a key per service; icImpressionTable gives
 * impressions per key × work type × persistence; icMediaUsedTable gives sheets per key ×
 * medium, with the PWG 5101.1 media size name. Returns null when the MIB is absent.
 */
export function decodePwgCounters(walk: Walk): CounterFigures | null {
  if (!hasSubtree(walk, PWG_IC.impressionTable) && !hasSubtree(walk, PWG_IC.mediaUsedTable)) return null;
  const figures = emptyFigures();
  figures.unit = 'impressions';
  const services = serviceKeys(walk);
  const totalsKey = [...services].find(([, name]) => name === 'totals')?.[0];

  for (const [key, name] of services) {
    const row = `${key}.${WORK_TOTALS}.${LIFETIME}`;
    const where = name === 'totals' ? ({ group: 'top' } as const) : ({ group: 'byService', key: name } as const);
    const put = (field: 'total' | 'mono' | 'colour', column: string) => {
      const value = getInt(walk, `${column}.${row}`);
      if (value !== undefined)
        addFigure(figures, { ...where, field }, value, { profile: PROFILE, oids: [`${column}.${row}`], wrapAt: IC_WRAP });
    };
    put('total', PWG_IC.impressionTotal);
    put('mono', PWG_IC.impressionMonochrome);
    // colour = full colour + highlight colour impressions (PWG 5106.1 §3)
    put('colour', PWG_IC.impressionFullColor);
    put('colour', PWG_IC.impressionHighlightColor);
  }
  if (totalsKey === undefined) sumServicesIntoTop(figures);

  // media used, by the system-totals key (else every key): sheets per paper size
  for (const [index, value] of columnEntries(walk, PWG_IC.mediaUsedSizeName)) {
    const [key, , persistence] = index.split('.');
    if (Number(persistence) !== LIFETIME || value.type !== 4) continue;
    if (totalsKey !== undefined && key !== totalsKey) continue;
    const size = getString(walk, `${PWG_IC.mediaUsedSizeName}.${index}`) ?? 'unknown';
    const put = (field: 'total' | 'mono' | 'colour', column: string) => {
      const v = getInt(walk, `${column}.${index}`);
      if (v !== undefined)
        addFigure(figures, { group: 'byPaperSize', key: size, field }, v, {
          profile: PROFILE,
          oids: [`${column}.${index}`],
          wrapAt: IC_WRAP,
        });
    };
    put('total', PWG_IC.mediaUsedTotal);
    put('mono', PWG_IC.mediaUsedMonochrome);
    put('colour', PWG_IC.mediaUsedFullColor);
    put('colour', PWG_IC.mediaUsedHighlightColor);
    figures.paperSizeUnit = 'sheets';
  }
  return figures;
}

/** Keys that stand for a whole service (no subunit), as key index → service name. */
function serviceKeys(walk: Walk): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of columnEntries(walk, PWG_IC.keyServiceType)) {
    if (value.type !== 2) continue;
    const subunit = getInt(walk, `${PWG_IC.keySubunitIndex}.${key}`) ?? 0;
    if (subunit !== 0) continue;
    out.set(key, SERVICES[value.value] ?? 'other');
  }
  return out;
}

/** Without a system-totals key, the top level is the sum of the printing services. */
export function sumServicesIntoTop(figures: CounterFigures): void {
  for (const [name, set] of Object.entries(figures.byService)) {
    if (name === 'scan') continue; // scans are images, not impressions
    for (const field of ['total', 'mono', 'colour'] as const) {
      const value = set[field];
      const source = figures.sources[`byService.${name}.${field}`];
      if (value !== undefined && source) addFigure(figures, { group: 'top', field }, value, source);
    }
  }
}
