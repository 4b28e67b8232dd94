import { decodeCounters } from './decode-counters.js';
import { decodeAlerts, decodeIdentity, decodePrinterState, findPrinterIndex } from './decode-status.js';
import { decodeSubunitLabels, decodeSupplies } from './decode-supplies.js';
import { deriveFaults } from './faults.js';
import { createLimiter } from './limit.js';
import { HR, instance, PRT, PWG_IC, SHARP, SYS, VENDOR_SERIALS } from './oids.js';
import { openSnmpClient, SNMP_DEFAULTS, type SnmpClient, type SnmpDefaults } from './snmp-session.js';
import type { CounterSnapshot, DeviceDriver, DeviceRecord, FaultHint, FaultSnapshot, SnmpDeviceConfig } from './types.js';
import type { Walk } from './walk.js';

export interface SnmpDriverOptions extends Partial<SnmpDefaults> {
  /** Devices polled at once across every caller of this driver (default 32). */
  maxConcurrent?: number;
}

/** Alert groups whose prtAlertGroupIndex points into a table with names (RFC 3805). */
const LABEL_COLUMNS: Record<number, string> = {
  6: PRT.coverDescription,
  8: PRT.inputName,
  9: PRT.outputName,
  11: PRT.suppliesDescription,
};

/** Subtrees readCounters walks (in parallel) after its identity GET. */
export const COUNTER_WALKS: readonly string[] = [
  PWG_IC.keyTable,
  PWG_IC.impressionTable,
  PWG_IC.mediaUsedTable,
  SHARP.counters,
  SHARP.labels,
  PRT.markerCounterUnit,
  PRT.markerLifeCount,
  PRT.suppliesTable,
];

/**
 * The SNMP driver only fetches: it decides which OIDs to ask for, asks, and hands the
 * answers (a Walk) to the pure decoders. v1, v2c and v3 (USM, e.g. authPriv SHA/AES).
 */
export function createSnmpDriver(options: SnmpDriverOptions = {}): DeviceDriver {
  const defaults: SnmpDefaults = { ...SNMP_DEFAULTS, ...stripUndefined(options) };
  const limiter = createLimiter(options.maxConcurrent ?? 32);
  const withClient = <T>(device: DeviceRecord, fn: (client: SnmpClient) => Promise<T>) =>
    limiter.run(async () => {
      const client = await openSnmpClient(snmpConfig(device), defaults);
      try {
        return await fn(client);
      } finally {
        client.close();
      }
    });

  return {
    pollFaults: (device, hint) => withClient(device, (client) => pollFaults(client, hint)),
    readCounters: (device) => withClient(device, readCounters),
    identify: (device) =>
      withClient(device, async (client) => {
        const { walk, printerIndex } = await readBasics(client);
        return decodeIdentity(walk, printerIndex);
      }),
  };
}

/** Everything for a counter reading, from one session (exported for tests with a fake client). */
export async function readCounters(client: SnmpClient): Promise<CounterSnapshot> {
  // identity GET and one GETNEXT probe of every counter table in parallel; then walk only
  // the tables the device has (most have two or three of the eight)
  const [{ walk, printerIndex }, probe] = await Promise.all([readBasics(client), client.getNext(COUNTER_WALKS)]);
  const present = COUNTER_WALKS.filter((root, i) => probe[i]?.value !== undefined && probe[i]?.oid.startsWith(`${root}.`));
  const tables = await Promise.all(present.map((oid) => client.walk(oid)));
  for (const table of tables) merge(walk, table);
  return { identity: decodeIdentity(walk, printerIndex), figures: decodeCounters(walk, printerIndex), supplies: decodeSupplies(walk) };
}

/** One fault poll, from one session (exported for tests with a fake client). */
export async function pollFaults(client: SnmpClient, hint: FaultHint | undefined): Promise<FaultSnapshot> {
  const { walk, printerIndex, alertsWalked } = client.bulk ? await readStateBulk(client, hint) : await readStateV1(client, hint);
  const state = decodePrinterState(walk, printerIndex);
  const alerts = alertsWalked ? decodeAlerts(walk).filter((a) => a.index.startsWith(`${printerIndex}.`)) : [];
  const labelOids = [
    ...new Set(
      alerts.flatMap((a) => {
        const column = LABEL_COLUMNS[a.group];
        return column && a.groupIndex > 0 ? [instance(column, printerIndex, a.groupIndex)] : [];
      }),
    ),
  ];
  if (labelOids.length > 0) merge(walk, await client.get(labelOids));
  return {
    deviceStatus: state.deviceStatus,
    printerStatus: state.printerStatus,
    errorState: state.errorState,
    alertEvents: state.alertEvents,
    alerts,
    alertsWalked,
    faults: deriveFaults(state.errorState, alerts, decodeSubunitLabels(walk, printerIndex)),
  };
}

interface StateRead {
  walk: Walk;
  printerIndex: string;
  alertsWalked: boolean;
}

/**
 * v2c/v3: the whole fault poll in one GETBULK (RFC 3416 §4.2.3) in the common case. The
 * four non-repeaters are GETNEXTs on the state columns, which land on the first printer's
 * row (hrPrinterTable and prtGeneralTable hold printers only, so their index is the
 * printer's hrDeviceIndex); the repeater reads prtAlertTable from its start, as many
 * varbinds as the last poll found rows (one when it was empty: enough to see it still is).
 */
async function readStateBulk(client: SnmpClient, hint: FaultHint | undefined): Promise<StateRead> {
  const columns = [HR.deviceStatus, HR.printerStatus, HR.printerDetectedErrorState, PRT.alertAllEvents];
  const rows = hint?.alertRows;
  const maxRepetitions = rows === undefined ? 24 : Math.min(rows * 8 + 1, 64);
  const answer = await client.getBulk(columns, [PRT.alertTable], maxRepetitions);
  const walk: Walk = new Map();
  const found = columns.map((column, i) => {
    const entry = answer.nonRepeaters[i];
    if (!entry?.value || !entry.oid.startsWith(`${column}.`)) return undefined;
    walk.set(entry.oid, entry.value);
    return entry.oid.slice(column.length + 1);
  });
  const printerIndex = found[1] ?? found[2] ?? found[3] ?? '1';
  // hrDeviceTable also holds CPUs, NICs…: its first row need not be the printer's
  const refetch: string[] = [];
  for (const [column, at] of [
    [HR.deviceStatus, found[0]],
    [PRT.alertAllEvents, found[3]],
  ] as const) {
    if (at === undefined || at === printerIndex) continue;
    walk.delete(instance(column, at));
    refetch.push(instance(column, printerIndex));
  }
  if (refetch.length > 0) merge(walk, await client.get(refetch));
  const table = answer.repeaters[0] ?? [];
  let last: string | undefined;
  for (const entry of table) {
    if (!entry.value || !entry.oid.startsWith(`${PRT.alertTable}.`)) {
      last = undefined;
      break;
    }
    walk.set(entry.oid, entry.value);
    last = entry.oid;
  }
  // still inside the table after maxRepetitions: read the rest
  if (last !== undefined && table.length >= maxRepetitions) merge(walk, await client.walk(PRT.alertTable, last));
  return { walk, printerIndex, alertsWalked: true };
}

/**
 * v1 (no GETBULK): a GET of the state, then the prtAlertTable walk, which is skipped when
 * prtAlertAllEvents (RFC 3805: alerts ever added) has not moved and the table was empty
 * last time: then it is still empty, and the walk's round trips buy nothing.
 */
async function readStateV1(client: SnmpClient, hint: FaultHint | undefined): Promise<StateRead> {
  let printerIndex = '1';
  const stateOids = (p: string) => [
    instance(HR.deviceStatus, p),
    instance(HR.printerStatus, p),
    instance(HR.printerDetectedErrorState, p),
    instance(PRT.alertAllEvents, p),
  ];
  let walk = await client.get(stateOids(printerIndex));
  if (walk.size === 0) {
    printerIndex = findPrinterIndex(await client.walk(HR.deviceType));
    if (printerIndex !== '1') walk = await client.get(stateOids(printerIndex));
  }
  const events = decodePrinterState(walk, printerIndex).alertEvents;
  const skip = hint?.alertRows === 0 && hint.alertEvents !== undefined && events === hint.alertEvents;
  if (!skip) merge(walk, await client.walk(PRT.alertTable));
  return { walk, printerIndex, alertsWalked: !skip };
}

/** System group, the printer row and every serial-number object, in one GET. */
async function readBasics(client: SnmpClient): Promise<{ walk: Walk; printerIndex: string }> {
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

function merge(into: Walk, from: Walk): void {
  for (const [oid, value] of from) into.set(oid, value);
}

function snmpConfig(device: DeviceRecord): SnmpDeviceConfig {
  if (device.driver !== 'snmp') throw new TypeError(`device ${device.id} is not an SNMP device`);
  return device.config;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
