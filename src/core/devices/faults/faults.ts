import type { FaultCode, ObservedFault, PrinterAlert, Severity } from '../types.js';

/** Each canonical code has one severity, so the host can rank reports from any device. */
export const FAULT_SEVERITY: Readonly<Record<FaultCode, Severity>> = {
  jam: 'critical',
  'no-paper': 'critical',
  'input-tray-missing': 'warning',
  'toner-empty': 'critical',
  'toner-low': 'warning',
  'door-open': 'critical',
  'cover-open': 'critical',
  'waste-full': 'critical',
  'waste-near-full': 'warning',
  'output-full': 'critical',
  'drum-life-over': 'warning',
  'service-requested': 'critical',
  offline: 'warning',
  'device-unreachable': 'critical',
  'disk-nearly-full': 'warning',
  'memory-exhausted': 'critical',
  restarted: 'info',
};

/** RFC 3805 PrtAlertGroupTC values used for subunits. */
const GROUP = { generalPrinter: 5, cover: 6, input: 8, output: 9, marker: 10, markerSupplies: 11, mediaPath: 13 } as const;
const GROUP_NAMES: Record<number, string> = {
  5: 'printer',
  6: 'cover',
  8: 'input',
  9: 'output',
  10: 'marker',
  11: 'supply',
  12: 'colorant',
  13: 'media path',
  14: 'channel',
  15: 'interpreter',
  30: 'finisher',
  31: 'finisher supply',
};
/** RFC 3805 PrtAlertSeverityLevelTC. */
const ALERT_CRITICAL = 3;
const ALERT_BINARY_CHANGE = 5;

/** Names of the parts an alert's prtAlertGroupIndex points into, read from the same walk. */
export interface SubunitLabels {
  input?: ReadonlyMap<number, string>;
  output?: ReadonlyMap<number, string>;
  supplies?: ReadonlyMap<number, string>;
  covers?: ReadonlyMap<number, string>;
}

/**
 * prtAlertCode (RFC 3805 PrtAlertCodeTC) + group → canonical code; null for alerts that are
 * events or conditions the host does not track (paper low, warming up, config change…).
 * The generic subunit codes (9–38) mean different things per group, hence the group.
 */
export function alertFaultCode(alert: PrinterAlert, labels: SubunitLabels = {}): FaultCode | null {
  const g = alert.group;
  const supplyLabel = labels.supplies?.get(alert.groupIndex) ?? '';
  switch (alert.code) {
    case 3: // coverOpen
    case 5: // interlockOpen: the cover's safety switch
      return 'cover-open';
    case 8: // jam
      return 'jam';
    case 9: // subunitMissing
      return g === GROUP.input ? 'input-tray-missing' : g === GROUP.markerSupplies ? 'toner-empty' : null;
    case 11: // subunitLifeOver
      if (g !== GROUP.markerSupplies && g !== GROUP.marker) return null;
      return /drum|opc|photo/i.test(supplyLabel) ? 'drum-life-over' : 'service-requested';
    case 12: // subunitAlmostEmpty
      return g === GROUP.markerSupplies && !/waste/i.test(supplyLabel) ? 'toner-low' : null;
    case 13: // subunitEmpty
      return g === GROUP.input ? 'no-paper' : g === GROUP.markerSupplies ? 'toner-empty' : null;
    case 14: // subunitAlmostFull
      return g === GROUP.markerSupplies ? 'waste-near-full' : null;
    case 15: // subunitFull
      return g === GROUP.output ? 'output-full' : g === GROUP.markerSupplies ? 'waste-full' : null;
    case 18: // subunitOpened
      return g === GROUP.cover ? 'cover-open' : null;
    case 22: // subunitOffline
      return 'offline';
    case 30: // subunitUnrecoverableFailure
    case 32: // subunitUnrecoverableStorageError
    case 33: // subunitMotorFailure
    case 35: // subunitUnderTemperature
    case 36: // subunitOverTemperature
    case 37: // subunitTimingFailure
    case 38: // subunitThermistorFailure
    case 1003: // markerFuserTimingFailure
    case 1004: // markerFuserThermistorFailure
      return 'service-requested';
    case 501: // doorOpen (deprecated by RFC 3805 in favour of coverOpen, still sent)
      return 'door-open';
    case 801: // inputMediaTrayMissing
      return 'input-tray-missing';
    case 808: // inputMediaSupplyEmpty
      return 'no-paper';
    case 903: // outputMediaTrayFull
      return 'output-full';
    case 1101: // markerTonerEmpty
    case 1102: // markerInkEmpty
    case 1103: // markerPrintRibbonEmpty
    case 1114: // markerDeveloperEmpty
    case 1115: // markerTonerCartridgeMissing: printing stops just as when empty
      return 'toner-empty';
    case 1104: // markerTonerAlmostEmpty
    case 1105: // markerInkAlmostEmpty
    case 1106: // markerPrintRibbonAlmostEmpty
    case 1113: // markerDeveloperAlmostEmpty
      return 'toner-low';
    case 1107: // markerWasteTonerReceptacleAlmostFull
    case 1108: // markerWasteInkReceptacleAlmostFull
      return 'waste-near-full';
    case 1109: // markerWasteTonerReceptacleFull
    case 1110: // markerWasteInkReceptacleFull
      return 'waste-full';
    case 1112: // markerOpcLifeOver
      return 'drum-life-over';
    default:
      return null;
  }
}

/** hrPrinterDetectedErrorState bit → canonical code (bits without one are ignored). */
const BIT_FAULTS: Readonly<Record<string, FaultCode>> = {
  noPaper: 'no-paper',
  inputTrayEmpty: 'no-paper',
  lowToner: 'toner-low',
  noToner: 'toner-empty',
  markerSupplyMissing: 'toner-empty',
  doorOpen: 'door-open',
  jammed: 'jam',
  offline: 'offline',
  serviceRequested: 'service-requested',
  overduePreventMaint: 'service-requested',
  inputTrayMissing: 'input-tray-missing',
  outputFull: 'output-full',
};
/** A bit says less than an alert row: drop it when an alert already reports the condition. */
const COVERED_BY: Partial<Record<FaultCode, FaultCode[]>> = { 'door-open': ['door-open', 'cover-open'] };

export function alertSubunit(alert: PrinterAlert, labels: SubunitLabels = {}): string {
  const i = alert.groupIndex;
  if (i <= 0) return '';
  const named = (map: ReadonlyMap<number, string> | undefined, fallback: string) => map?.get(i) ?? `${fallback} ${i}`;
  switch (alert.group) {
    case GROUP.input:
      return named(labels.input, 'tray');
    case GROUP.output:
      return named(labels.output, 'output');
    case GROUP.markerSupplies:
      return named(labels.supplies, 'supply');
    case GROUP.cover:
      return named(labels.covers, 'cover');
    case GROUP.generalPrinter:
      return '';
    default:
      return `${GROUP_NAMES[alert.group] ?? `group ${alert.group}`} ${i}`;
  }
}

/**
 * The faults a successful poll shows: alert rows first (they name the subunit), then the
 * error-state bits for conditions no alert covers. One fault per (code, subunit).
 */
export function deriveFaults(errorState: readonly string[], alerts: readonly PrinterAlert[], labels: SubunitLabels = {}): ObservedFault[] {
  const byKey = new Map<string, ObservedFault>();
  const add = (fault: ObservedFault) => {
    const key = `${fault.code}\u0000${fault.subunit}`;
    const existing = byKey.get(key);
    if (!existing || rank(fault.severity) > rank(existing.severity)) byKey.set(key, fault);
  };
  for (const alert of alerts) {
    // binary change events (a cover was closed, power came up) are not standing conditions
    if (alert.severity === ALERT_BINARY_CHANGE) continue;
    const code = alertFaultCode(alert, labels);
    if (!code) continue;
    const base = FAULT_SEVERITY[code];
    add({
      code,
      subunit: alertSubunit(alert, labels),
      severity: alert.severity === ALERT_CRITICAL && base === 'warning' ? 'critical' : base,
      source: `prtAlertCode ${alert.code}, group ${alert.group}.${alert.groupIndex}`,
      detail: alert.description,
    });
  }
  const fromAlerts = new Set([...byKey.values()].map((f) => f.code));
  for (const bit of errorState) {
    const code = BIT_FAULTS[bit];
    if (!code) continue;
    if ((COVERED_BY[code] ?? [code]).some((c) => fromAlerts.has(c))) continue;
    add({ code, subunit: '', severity: FAULT_SEVERITY[code], source: `hrPrinterDetectedErrorState ${bit}` });
  }
  return [...byKey.values()];
}

export function rank(severity: Severity): number {
  return severity === 'critical' ? 3 : severity === 'warning' ? 2 : 1;
}

/** "Black Toner Cartridge" → "toner black"; keeps subunits short and stable across models. */
export function supplySubunit(description: string): string {
  const text = description.toLowerCase();
  const colour = /\b(black|cyan|magenta|yellow|red|green|blue|gr[ae]y|photo black|matte black)\b/.exec(text)?.[1];
  const kind = /waste/.test(text)
    ? 'waste'
    : /\b(drum|opc|photoconductive)\b/.test(text)
      ? 'drum'
      : /\b(toner|ink|developer|ribbon|fuser|fusing)\b/.exec(text)?.[1];
  if (kind === 'waste') return `waste ${/ink/.test(text) ? 'ink' : 'toner'}`;
  if (kind && colour) return `${kind} ${colour}`;
  return text.replace(/\s+/g, ' ').trim();
}
