import { decodeCounters } from '../decoders/decode-counters.js';
import { decodeIdentity, findPrinterIndex } from '../decoders/decode-status.js';
import { decodeSupplies } from '../decoders/decode-supplies.js';
import { HR, instance, PRT, PWG_IC, SHARP, SYS, VENDOR_SERIALS } from '../decoders/oids.js';
import { mergeWalk as merge, type Walk } from '../decoders/walk.js';
import type { CounterSnapshot } from '../types.js';
import type { SnmpClient } from './snmp-session.js';

/**
 * Where counters and supplies come from: each source is probed by one table and, when the
 * probe lands inside it, walked together with its companion tables.
 */
export const COUNTER_SOURCES: ReadonlyArray<{ probe: string; tables: readonly string[] }> = [
  { probe: PWG_IC.impressionTable, tables: [PWG_IC.keyTable, PWG_IC.impressionTable, PWG_IC.mediaUsedTable] },
  { probe: SHARP.counters, tables: [SHARP.counters, SHARP.labels] },
  { probe: PRT.markerLifeCount, tables: [PRT.markerLifeCount] },
  { probe: PRT.suppliesTable, tables: [PRT.suppliesTable] },
];
/** Every table readCounters may walk. */
export const COUNTER_WALKS: readonly string[] = COUNTER_SOURCES.flatMap((s) => s.tables);
/** Scalars asked by GETNEXT on their parent: the answer is the scalar itself when it exists. */
const SCALARS = [SYS.descr, SYS.objectId];
/**
 * Columns read through their first row: the printer's in the usual case (checked below).
 * prtMarkerCounterUnit's first row is the first marker's unit, all a reading needs.
 */
const COLUMNS = [HR.deviceType, HR.deviceDescr, PRT.generalSerialNumber, PRT.markerCounterUnit];
/** GETBULK repetitions per table in the second request (RFC 3416 §4.2.3). */
export const TABLE_REPETITIONS = 8;

const parent = (oid: string) => oid.slice(0, oid.lastIndexOf('.'));
/** The first request of readCounters: one GETNEXT of all these. */
export const COUNTER_PROBES: readonly string[] = [...SCALARS.map(parent), ...COLUMNS, ...COUNTER_SOURCES.map((s) => s.probe)];

/**
 * Everything for a counter reading in two requests in the usual case (exported for tests).
 * Agents spend their time per varbind, so this asks for few:
 * 1. one GETNEXT that reads identity (scalars via their parent OID, hrDevice/prtGeneral
 *    columns via their first row) and probes each counter source with one varbind;
 * 2. one GETBULK over just the tables that exist (most devices have two or three), with a
 *    walk only for a table longer than the repetitions asked, and a GET of the vendor
 *    serial objects only when prtGeneralSerialNumber is missing.
 * A device whose first hrDeviceTable row is not the printer gets the longer readBasics path.
 */
export async function readCounters(client: SnmpClient): Promise<CounterSnapshot> {
  const answers = await client.getNext(COUNTER_PROBES);
  let walk: Walk = new Map();
  SCALARS.forEach((oid, i) => {
    const e = answers[i];
    if (e?.value && e.oid === oid) walk.set(oid, e.value);
  });
  const first = COLUMNS.map((column, i) => {
    const e = answers[SCALARS.length + i];
    return e?.value && e.oid.startsWith(`${column}.`) ? { index: e.oid.slice(column.length + 1), entry: e } : undefined;
  });
  let printerIndex = first[0]?.entry.value?.value === HR.typePrinter ? first[0].index : undefined;
  if (printerIndex === undefined) {
    ({ walk, printerIndex } = await readBasics(client));
  } else {
    for (const f of first) {
      const ours = f?.index === printerIndex || f?.index.startsWith(`${printerIndex}.`);
      if (ours && f?.entry.value) walk.set(f.entry.oid, f.entry.value);
    }
  }
  const offset = SCALARS.length + COLUMNS.length;
  const tables = COUNTER_SOURCES.filter(({ probe }, i) => {
    const e = answers[offset + i];
    return e?.value !== undefined && e.oid.startsWith(`${probe}.`);
  }).flatMap((s) => s.tables);
  const needSerial = !walk.has(instance(PRT.generalSerialNumber, printerIndex)) && !VENDOR_SERIALS.some((v) => walk.has(v.oid));
  const [rows, serials] = await Promise.all([
    readTables(client, tables),
    needSerial ? client.get(VENDOR_SERIALS.map((v) => v.oid)) : Promise.resolve(new Map() as Walk),
  ]);
  merge(walk, rows);
  merge(walk, serials);
  return { identity: decodeIdentity(walk, printerIndex), figures: decodeCounters(walk, printerIndex), supplies: decodeSupplies(walk) };
}

async function readTables(client: SnmpClient, roots: readonly string[]): Promise<Walk> {
  const walk: Walk = new Map();
  if (roots.length === 0) return walk;
  if (!client.bulk) {
    for (const table of await Promise.all(roots.map((root) => client.walk(root)))) merge(walk, table);
    return walk;
  }
  const { repeaters } = await client.getBulk([], roots, TABLE_REPETITIONS);
  const unfinished: Array<[root: string, last: string]> = [];
  roots.forEach((root, i) => {
    const entries = repeaters[i] ?? [];
    let last: string | undefined;
    for (const e of entries) {
      if (!e.value || !e.oid.startsWith(`${root}.`)) return;
      walk.set(e.oid, e.value);
      last = e.oid;
    }
    if (last !== undefined && entries.length >= TABLE_REPETITIONS) unfinished.push([root, last]);
  });
  for (const rest of await Promise.all(unfinished.map(([root, last]) => client.walk(root, last)))) merge(walk, rest);
  return walk;
}

/** System group, the printer row and every serial-number object, in one GET. */
export async function readBasics(client: SnmpClient): Promise<{ walk: Walk; printerIndex: string }> {
  const basics = (p: string) => [
    SYS.descr,
    SYS.objectId,
    instance(HR.deviceType, p),
    instance(HR.deviceDescr, p),
    instance(PRT.generalSerialNumber, p),
    ...VENDOR_SERIALS.map((v) => v.oid),
  ];
  let walk = await client.get(basics('1'));
  let printerIndex = '1';
  if (walk.get(instance(HR.deviceType, '1'))?.value !== HR.typePrinter) {
    // not at hrDeviceIndex 1 (or no HOST-RESOURCES-MIB): look the printer row up
    printerIndex = findPrinterIndex(await client.walk(HR.deviceType));
    if (printerIndex !== '1') walk = await client.get(basics(printerIndex));
  }
  return { walk, printerIndex };
}
