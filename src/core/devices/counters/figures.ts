import type { CounterFigures, CounterSet, FigureSource } from '../types.js';

export type Field = keyof CounterSet;
export const FIELDS: readonly Field[] = ['total', 'mono', 'colour'];

export function emptyFigures(): CounterFigures {
  return { byService: {}, byPaperSize: {}, sources: {} };
}

export function figurePath(group: 'top' | 'byService' | 'byPaperSize', key: string, field: Field): string {
  return group === 'top' ? field : `${group}.${key}.${field}`;
}

/**
 * Add `value` to a figure, summing when it already has one (a total made of several
 * counters), and record which OIDs it came from: every stored figure can be traced back.
 */
export function addFigure(
  figures: CounterFigures,
  where: { group: 'top' | 'byService' | 'byPaperSize'; key?: string; field: Field },
  value: number,
  source: FigureSource,
): void {
  const key = where.key ?? '';
  let set: CounterSet = figures;
  if (where.group !== 'top') {
    const group = figures[where.group];
    // keys come from the device (a PWG media size name): '__proto__' or 'constructor' must be
    // an own entry, never Object.prototype (a plain assignment would pollute every object)
    set = Object.hasOwn(group, key) ? (group[key] as CounterSet) : {};
    Object.defineProperty(group, key, { value: set, enumerable: true, writable: true, configurable: true });
  }
  set[where.field] = (set[where.field] ?? 0) + value;
  const path = figurePath(where.group, key, where.field);
  const known = figures.sources[path];
  figures.sources[path] = known
    ? { profile: known.profile, oids: [...known.oids, ...source.oids], wrapAt: wrapOfSum(known.wrapAt, source.wrapAt) }
    : { ...source, oids: [...source.oids] };
}

/** A sum of counters cannot be unwrapped by one modulus: keep wrapAt only for single counters. */
function wrapOfSum(_a: number | undefined, _b: number | undefined): number | undefined {
  return undefined;
}

/** Copy one figure (value and source) from a service onto the top level. */
export function copyFigure(figures: CounterFigures, fromPath: string, field: Field, value: number): void {
  figures[field] = value;
  const source = figures.sources[fromPath];
  if (source) figures.sources[field] = { ...source, oids: [...source.oids] };
}

/** Every figure as [path, value], for comparing one reading with the previous one. */
export interface FigureTree {
  total?: number | null;
  mono?: number | null;
  colour?: number | null;
  byService: Record<string, CounterSet>;
  byPaperSize: Record<string, CounterSet>;
}

export function listFigures(figures: FigureTree): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const field of FIELDS) {
    const v = figures[field];
    if (typeof v === 'number') out.push([field, v]);
  }
  for (const group of ['byService', 'byPaperSize'] as const) {
    for (const [key, set] of Object.entries(figures[group])) {
      for (const field of FIELDS) {
        const v = set[field];
        if (typeof v === 'number') out.push([figurePath(group, key, field), v]);
      }
    }
  }
  return out;
}
