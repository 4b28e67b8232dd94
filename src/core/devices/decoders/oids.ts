/**
 * The OIDs rds reads, with the document that defines each. Columns are given without the
 * instance; a printer's instance is its hrDeviceIndex (RFC 2790) followed by the row index.
 */

/** SNMPv2-MIB system group (RFC 3418). */
export const SYS = {
  descr: '1.3.6.1.2.1.1.1.0',
  objectId: '1.3.6.1.2.1.1.2.0',
  upTime: '1.3.6.1.2.1.1.3.0',
  name: '1.3.6.1.2.1.1.5.0',
} as const;

/** HOST-RESOURCES-MIB (RFC 2790) hrDeviceTable and hrPrinterTable columns. */
export const HR = {
  deviceType: '1.3.6.1.2.1.25.3.2.1.2',
  deviceDescr: '1.3.6.1.2.1.25.3.2.1.3',
  deviceStatus: '1.3.6.1.2.1.25.3.2.1.5',
  printerStatus: '1.3.6.1.2.1.25.3.5.1.1',
  printerDetectedErrorState: '1.3.6.1.2.1.25.3.5.1.2',
  /** hrDeviceType value of a printer row (hrDevicePrinter). */
  typePrinter: '1.3.6.1.2.1.25.3.1.5',
} as const;

/**
 * HOST-RESOURCES-MIB (RFC 2790) objects of a PC or server: hrSystem, hrStorage, the
 * processor table, running software with its performance, installed software.
 */
export const HRH = {
  systemUptime: '1.3.6.1.2.1.25.1.1.0',
  system: '1.3.6.1.2.1.25.1',
  memorySize: '1.3.6.1.2.1.25.2.2.0',
  storageTable: '1.3.6.1.2.1.25.2.3.1',
  storageType: '1.3.6.1.2.1.25.2.3.1.2',
  storageDescr: '1.3.6.1.2.1.25.2.3.1.3',
  storageAllocationUnits: '1.3.6.1.2.1.25.2.3.1.4',
  storageSize: '1.3.6.1.2.1.25.2.3.1.5',
  storageUsed: '1.3.6.1.2.1.25.2.3.1.6',
  /** hrStorageTypes (RFC 2790 §4.2): hrStorageRam, hrStorageFixedDisk */
  typeRam: '1.3.6.1.2.1.25.2.1.2',
  typeFixedDisk: '1.3.6.1.2.1.25.2.1.4',
  processorLoad: '1.3.6.1.2.1.25.3.3.1.2',
  swRunName: '1.3.6.1.2.1.25.4.2.1.2',
  /** hrSWRunPerfMem: KBytes of real memory allocated to the process */
  swRunPerfMem: '1.3.6.1.2.1.25.5.1.1.2',
  swInstalledName: '1.3.6.1.2.1.25.6.3.1.2',
  /** hrDeviceType value of a processor row (hrDeviceProcessor) */
  typeProcessor: '1.3.6.1.2.1.25.3.1.3',
} as const;

/** Printer-MIB v2 (RFC 3805). */
export const PRT = {
  // prtGeneralTable 43.5.1.1, indexed by hrDeviceIndex
  generalSerialNumber: '1.3.6.1.2.1.43.5.1.1.17',
  alertCriticalEvents: '1.3.6.1.2.1.43.5.1.1.18',
  /** prtAlertAllEvents: Counter32 of alerts ever entered into prtAlertTable. */
  alertAllEvents: '1.3.6.1.2.1.43.5.1.1.19',
  // prtInputTable 43.8.2.1
  inputName: '1.3.6.1.2.1.43.8.2.1.13',
  // prtOutputTable 43.9.2.1
  outputName: '1.3.6.1.2.1.43.9.2.1.7',
  // prtMarkerTable 43.10.2.1
  markerCounterUnit: '1.3.6.1.2.1.43.10.2.1.3',
  markerLifeCount: '1.3.6.1.2.1.43.10.2.1.4',
  // prtMarkerSuppliesTable 43.11.1.1
  suppliesTable: '1.3.6.1.2.1.43.11.1.1',
  suppliesClass: '1.3.6.1.2.1.43.11.1.1.4',
  suppliesType: '1.3.6.1.2.1.43.11.1.1.5',
  suppliesDescription: '1.3.6.1.2.1.43.11.1.1.6',
  suppliesUnit: '1.3.6.1.2.1.43.11.1.1.7',
  suppliesMaxCapacity: '1.3.6.1.2.1.43.11.1.1.8',
  suppliesLevel: '1.3.6.1.2.1.43.11.1.1.9',
  // prtCoverTable 43.6.1.1
  coverDescription: '1.3.6.1.2.1.43.6.1.1.2',
  // prtAlertTable 43.18.1.1, indexed by hrDeviceIndex.prtAlertIndex
  alertTable: '1.3.6.1.2.1.43.18.1.1',
  alertSeverityLevel: '1.3.6.1.2.1.43.18.1.1.2',
  alertTrainingLevel: '1.3.6.1.2.1.43.18.1.1.3',
  alertGroup: '1.3.6.1.2.1.43.18.1.1.4',
  alertGroupIndex: '1.3.6.1.2.1.43.18.1.1.5',
  alertLocation: '1.3.6.1.2.1.43.18.1.1.6',
  alertCode: '1.3.6.1.2.1.43.18.1.1.7',
  alertDescription: '1.3.6.1.2.1.43.18.1.1.8',
  alertTime: '1.3.6.1.2.1.43.18.1.1.9',
} as const;

/**
 * PWG-IMAGING-COUNTER-MIB (PWG 5106.1 Standardized Imaging Counters, as a MIB). Its module
 * identity is 1.3.6.1.4.1.2699.1.3 (revisions 2005-12-23 and 2008-03-18); 2699.1.4, which
 * is sometimes quoted for it, holds a different PWG MIB (power/display objects seen on
 * NEC displays), so it is not read here.
 */
export const PWG_IC = {
  root: '1.3.6.1.4.1.2699.1.3',
  // icKeyTable 1.2.1.1, indexed by icKeyIndex
  keyServiceType: '1.3.6.1.4.1.2699.1.3.1.2.1.1.2',
  keySubunitType: '1.3.6.1.4.1.2699.1.3.1.2.1.1.4',
  keySubunitIndex: '1.3.6.1.4.1.2699.1.3.1.2.1.1.5',
  keyTable: '1.3.6.1.4.1.2699.1.3.1.2.1',
  // icImpressionTable 1.8.1.1, indexed by keyIndex.workType.persistence
  impressionTable: '1.3.6.1.4.1.2699.1.3.1.8.1',
  impressionTotal: '1.3.6.1.4.1.2699.1.3.1.8.1.1.4',
  impressionMonochrome: '1.3.6.1.4.1.2699.1.3.1.8.1.1.5',
  impressionFullColor: '1.3.6.1.4.1.2699.1.3.1.8.1.1.7',
  impressionHighlightColor: '1.3.6.1.4.1.2699.1.3.1.8.1.1.8',
  // icMediaUsedTable 1.12.1.1, indexed by keyIndex.mediaUsedIndex.persistence
  mediaUsedTable: '1.3.6.1.4.1.2699.1.3.1.12.1',
  mediaUsedTotal: '1.3.6.1.4.1.2699.1.3.1.12.1.1.4',
  mediaUsedMonochrome: '1.3.6.1.4.1.2699.1.3.1.12.1.1.5',
  mediaUsedFullColor: '1.3.6.1.4.1.2699.1.3.1.12.1.1.7',
  mediaUsedHighlightColor: '1.3.6.1.4.1.2699.1.3.1.12.1.1.8',
  mediaUsedSizeName: '1.3.6.1.4.1.2699.1.3.1.12.1.1.9',
} as const;

/** Sharp's private counter table (verified against a real MX-3570N walk, see fixtures). */
export const SHARP = {
  counters: '1.3.6.1.4.1.2385.1.1.19.2.1.3',
  labels: '1.3.6.1.4.1.2385.1.1.19.2.1.4',
} as const;

/**
 * Vendor serial-number objects, tried when prtGeneralSerialNumber is absent. Brother's is
 * verified by the MFC-L2710DW fixture; the others are the objects monitoring tools
 * commonly read for those makers (unverified here, harmless when absent).
 */
export const VENDOR_SERIALS: ReadonlyArray<{ vendor: string; oid: string }> = [
  { vendor: 'brother', oid: '1.3.6.1.4.1.2435.2.3.9.4.2.1.5.5.1.0' },
  { vendor: 'hp', oid: '1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.3.0' },
  { vendor: 'ricoh', oid: '1.3.6.1.4.1.367.3.2.1.2.1.4.0' },
  { vendor: 'kyocera', oid: '1.3.6.1.4.1.1347.43.5.1.1.28.1' },
];

export function instance(column: string, ...index: Array<number | string>): string {
  return [column, ...index].join('.');
}
