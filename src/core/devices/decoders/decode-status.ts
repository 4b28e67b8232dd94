import type { DeviceIdentity, PrinterAlert } from '../types.js';
import { HR, instance, PRT, SYS, VENDOR_SERIALS } from './oids.js';
import { columnEntries, getBuffer, getInt, getString, type Walk } from './walk.js';

/** RFC 2790 hrDeviceStatus. */
const DEVICE_STATUS: Record<number, string> = { 1: 'unknown', 2: 'running', 3: 'warning', 4: 'testing', 5: 'down' };
/** RFC 2790 hrPrinterStatus. */
const PRINTER_STATUS: Record<number, string> = { 1: 'other', 2: 'unknown', 3: 'idle', 4: 'printing', 5: 'warmup' };

/**
 * hrPrinterDetectedErrorState bit names: bits 0–7 from RFC 2790, 8–14 added by RFC 3805
 * §2.2.13.2. The BITS pseudo-type (RFC 2578 §7.1.4) numbers bits from the most significant
 * bit of the first octet, so 0x20 is bit 2 (lowToner) and 0x04 0x00 is bit 5 (jammed).
 */
export const ERROR_STATE_BITS = [
  'lowPaper',
  'noPaper',
  'lowToner',
  'noToner',
  'doorOpen',
  'jammed',
  'offline',
  'serviceRequested',
  'inputTrayMissing',
  'outputTrayMissing',
  'markerSupplyMissing',
  'outputNearFull',
  'outputFull',
  'inputTrayEmpty',
  'overduePreventMaint',
] as const;
export type ErrorStateBit = (typeof ERROR_STATE_BITS)[number];

/** Names of the bits set in a BITS value; unknown bits come back as `bit<N>`. */
export function decodeErrorState(bytes: Buffer | undefined): string[] {
  if (!bytes) return [];
  const names: string[] = [];
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const octet = bytes[bit >> 3] ?? 0;
    if ((octet >> (7 - (bit & 7))) & 1) names.push(ERROR_STATE_BITS[bit] ?? `bit${bit}`);
  }
  return names;
}

/**
 * The hrDeviceIndex of the printer row: the first hrDeviceTable row whose type is
 * hrDevicePrinter (RFC 2790), else 1, which is where every printer seen so far puts it.
 */
export function findPrinterIndex(walk: Walk): string {
  for (const [index, value] of columnEntries(walk, HR.deviceType)) {
    if (value.type === 6 && value.value === HR.typePrinter) return index;
  }
  return '1';
}

export function decodeIdentity(walk: Walk, printerIndex = findPrinterIndex(walk)): DeviceIdentity {
  const sysDescr = getString(walk, SYS.descr);
  const identity: DeviceIdentity = {
    sysDescr,
    sysObjectId: getString(walk, SYS.objectId),
    // hrDeviceDescr of the printer row names the model ("Brother MFC-L2710DW series");
    // sysDescr is often the NIC firmware ("Brother NC-8300h, Firmware Ver.1.14").
    model: getString(walk, instance(HR.deviceDescr, printerIndex)) ?? sysDescr,
  };
  const serial = getString(walk, instance(PRT.generalSerialNumber, printerIndex));
  if (serial) return { ...identity, serial, serialSource: 'prtGeneralSerialNumber' };
  for (const { vendor, oid } of VENDOR_SERIALS) {
    const value = getString(walk, oid);
    if (value) return { ...identity, serial: value, serialSource: `${vendor}:${oid}` };
  }
  return identity;
}

export interface PrinterState {
  deviceStatus?: string;
  printerStatus?: string;
  errorState: string[];
  alertEvents?: number;
}

export function decodePrinterState(walk: Walk, printerIndex = findPrinterIndex(walk)): PrinterState {
  const deviceStatus = getInt(walk, instance(HR.deviceStatus, printerIndex));
  const printerStatus = getInt(walk, instance(HR.printerStatus, printerIndex));
  return {
    deviceStatus: deviceStatus === undefined ? undefined : (DEVICE_STATUS[deviceStatus] ?? String(deviceStatus)),
    printerStatus: printerStatus === undefined ? undefined : (PRINTER_STATUS[printerStatus] ?? String(printerStatus)),
    errorState: decodeErrorState(getBuffer(walk, instance(HR.printerDetectedErrorState, printerIndex))),
    alertEvents: getInt(walk, instance(PRT.alertAllEvents, printerIndex)),
  };
}

/**
 * Every row of prtAlertTable (RFC 3805 §2.2.13). The table is read whole each time: rows are
 * removed when their condition clears and prtAlertIndex values are not stable, so a row's
 * identity is its content (code, group, group index), never its index.
 */
export function decodeAlerts(walk: Walk): PrinterAlert[] {
  const alerts: PrinterAlert[] = [];
  for (const [index, value] of columnEntries(walk, PRT.alertCode)) {
    if (value.type !== 2) continue;
    const at = (column: string) => getInt(walk, instance(column, index));
    alerts.push({
      index,
      severity: at(PRT.alertSeverityLevel) ?? 1,
      training: at(PRT.alertTrainingLevel),
      group: at(PRT.alertGroup) ?? 2,
      groupIndex: at(PRT.alertGroupIndex) ?? -1,
      location: at(PRT.alertLocation),
      code: value.value,
      description: getString(walk, instance(PRT.alertDescription, index)),
      time: at(PRT.alertTime),
    });
  }
  return alerts;
}
