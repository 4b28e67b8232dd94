import { type SubunitLabels, supplySubunit } from '../faults/faults.js';
import type { Supply } from '../types.js';
import { PRT } from './oids.js';
import { columnEntries, getInt, getString, type Walk } from './walk.js';

/** RFC 3805 PrtMarkerSuppliesTypeTC. */
const SUPPLY_TYPES: Record<number, string> = {
  1: 'other',
  2: 'unknown',
  3: 'toner',
  4: 'wasteToner',
  5: 'ink',
  6: 'inkCartridge',
  7: 'inkRibbon',
  8: 'wasteInk',
  9: 'opc',
  10: 'developer',
  11: 'fuserOil',
  12: 'solidWax',
  13: 'ribbonWax',
  14: 'wasteWax',
  15: 'fuser',
  16: 'coronaWire',
  17: 'fuserOilWick',
  18: 'cleanerUnit',
  19: 'fuserCleaningPad',
  20: 'transferUnit',
  21: 'tonerCartridge',
  22: 'fuserOiler',
  23: 'water',
  24: 'wasteWater',
  25: 'glueWaterAdditive',
  26: 'wastePaper',
  27: 'bindingSupply',
  28: 'bandingSupply',
  29: 'stitchingWire',
  30: 'shrinkWrap',
  31: 'paperWrap',
  32: 'staples',
  33: 'inserts',
  34: 'covers',
};
/** Types that are receptacles even on devices that omit prtMarkerSuppliesClass (both fixtures do). */
const WASTE_TYPES = new Set([4, 8, 14, 24, 26]);
/** RFC 3805 PrtMarkerSuppliesSupplyUnitTC. */
const SUPPLY_UNITS: Record<number, string> = {
  1: 'other',
  2: 'unknown',
  3: 'tenThousandthsOfInches',
  4: 'micrometers',
  7: 'impressions',
  8: 'sheets',
  11: 'hours',
  12: 'thousandthsOfOunces',
  13: 'tenthsOfGrams',
  14: 'hundrethsOfFluidOunces',
  15: 'tenthsOfMilliliters',
  16: 'feet',
  17: 'meters',
  18: 'items',
  19: 'percent',
};

/**
 * prtMarkerSuppliesTable (RFC 3805 §2.2.9). Level and max use −1 (other: no restriction),
 * −2 (unknown) and −3 (level only: "some remaining"). For a container the level is what is
 * left; for a receptacle (class 4, e.g. waste toner) it is the space left, so its percent
 * is reported as fullness: 100 − space left.
 */
export function decodeSupplies(walk: Walk): Supply[] {
  const supplies: Supply[] = [];
  const indexes = new Set<string>();
  for (const column of [PRT.suppliesType, PRT.suppliesDescription, PRT.suppliesLevel]) {
    for (const [index] of columnEntries(walk, column)) indexes.add(index);
  }
  for (const index of indexes) {
    const at = (column: string) => getInt(walk, `${column}.${index}`);
    const typeCode = at(PRT.suppliesType);
    const classCode = at(PRT.suppliesClass);
    const unitCode = at(PRT.suppliesUnit);
    const max = at(PRT.suppliesMaxCapacity);
    const level = at(PRT.suppliesLevel);
    const receptacle = classCode === 4 || (classCode === undefined && typeCode !== undefined && WASTE_TYPES.has(typeCode));
    const supply: Supply = {
      index,
      description: getString(walk, `${PRT.suppliesDescription}.${index}`),
      class: receptacle ? 'receptacle' : classCode === undefined || classCode === 3 ? 'consumed' : 'other',
      type: typeCode === undefined ? 'unknown' : (SUPPLY_TYPES[typeCode] ?? String(typeCode)),
      unit: unitCode === undefined ? undefined : (SUPPLY_UNITS[unitCode] ?? String(unitCode)),
      max,
      level,
      levelState: level === -1 ? 'unrestricted' : level === -3 ? 'some-remaining' : level === undefined || level < 0 ? 'unknown' : 'known',
    };
    if (supply.levelState === 'known' && max !== undefined && max > 0 && level !== undefined) {
      const left = Math.min(100, Math.max(0, Math.round((level / max) * 100)));
      supply.percent = receptacle ? 100 - left : left;
    }
    supplies.push(supply);
  }
  return supplies;
}

/** Names for alert subunits (RFC 3805 prtInputName, prtOutputName, supplies, covers). */
export function decodeSubunitLabels(walk: Walk, printerIndex: string): SubunitLabels {
  const names = (column: string, normalise: (text: string) => string = (t) => t.toLowerCase()) => {
    const map = new Map<number, string>();
    for (const [index] of columnEntries(walk, `${column}.${printerIndex}`)) {
      const text = getString(walk, `${column}.${printerIndex}.${index}`);
      if (text) map.set(Number(index), normalise(text));
    }
    return map;
  };
  return {
    input: names(PRT.inputName),
    output: names(PRT.outputName),
    supplies: names(PRT.suppliesDescription, supplySubunit),
    covers: names(PRT.coverDescription),
  };
}
