import { decodeAlerts, decodePrinterState, findPrinterIndex } from '../decoders/decode-status.js';
import { decodeSubunitLabels } from '../decoders/decode-supplies.js';
import { HR, instance, PRT } from '../decoders/oids.js';
import { mergeWalk as merge, type Walk } from '../decoders/walk.js';
import { deriveFaults } from '../faults/faults.js';
import type { FaultHint, FaultSnapshot } from '../types.js';
import type { SnmpClient } from './snmp-session.js';

/** Alert groups whose prtAlertGroupIndex points into a table with names (RFC 3805). */
const LABEL_COLUMNS: Record<number, string> = {
  6: PRT.coverDescription,
  8: PRT.inputName,
  9: PRT.outputName,
  11: PRT.suppliesDescription,
};

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
