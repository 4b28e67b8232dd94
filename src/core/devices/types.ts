/**
 * The devices core's vocabulary: what a driver returns, what the passes store and report.
 * Drivers (snmp, simulated) differ only in how they fetch; everything they return is in
 * these driver-neutral shapes, so the fault state machine and the counter store never
 * know where a figure came from except through its recorded source.
 */

/** Canonical fault codes: the host's vocabulary, whatever the device or driver said. */
export const FAULT_CODES = [
  'jam',
  'no-paper',
  'input-tray-missing',
  'toner-empty',
  'toner-low',
  'door-open',
  'cover-open',
  'waste-full',
  'waste-near-full',
  'output-full',
  'drum-life-over',
  'service-requested',
  'offline',
  'device-unreachable',
  // hosts (HOST-RESOURCES-MIB): thresholds in HostThresholds; restarted = uptime went back
  'disk-nearly-full',
  'memory-exhausted',
  'restarted',
] as const;
export type FaultCode = (typeof FAULT_CODES)[number];
export type Severity = 'critical' | 'warning' | 'info';

/** A fault seen in one successful poll. `subunit` is '' when the device named none. */
export interface ObservedFault {
  code: FaultCode;
  subunit: string;
  severity: Severity;
  /** Where it came from, for people: "prtAlertCode 8 (jam), group mediaPath 1". */
  source: string;
  detail?: string;
}

/** One prtAlertTable row (RFC 3805 §2.2.13), decoded. */
export interface PrinterAlert {
  index: string;
  severity: number;
  training?: number;
  group: number;
  groupIndex: number;
  location?: number;
  code: number;
  description?: string;
  time?: number;
}

export interface DeviceIdentity {
  sysDescr?: string;
  sysObjectId?: string;
  model?: string;
  serial?: string;
  /** "prtGeneralSerialNumber" or a vendor profile name. */
  serialSource?: string;
}

/** What the driver reports from a fault poll. */
export interface FaultSnapshot {
  deviceStatus?: string;
  printerStatus?: string;
  /** hrPrinterDetectedErrorState bit names (RFC 3805 §2.2.13.2 / RFC 2790). */
  errorState: string[];
  alerts: PrinterAlert[];
  /** prtAlertAllEvents, when the device has it. */
  alertEvents?: number;
  /** false when prtAlertTable was not walked because prtAlertAllEvents proved it empty. */
  alertsWalked: boolean;
  faults: ObservedFault[];
  /** hosts: hrSystemUptime in hundredths of a second, kept to see the next poll's go back */
  uptime?: number;
}

/** What the previous poll learnt, so a driver may skip work that cannot change anything. */
export interface FaultHint {
  alertEvents?: number;
  alertRows?: number;
  /** hosts: the previous poll's hrSystemUptime (hundredths of a second) */
  uptime?: number;
}

export interface FigureSource {
  /** pwg-imaging-counter | sharp | printer-mib | simulated */
  profile: string;
  oids: string[];
  /** Modulus at which the underlying counter wraps (2^32 for Counter32), if it can. */
  wrapAt?: number;
}

export interface CounterSet {
  total?: number;
  mono?: number;
  colour?: number;
}

/** Counter figures as read, before comparison with the previous reading. */
export interface CounterFigures {
  total?: number;
  mono?: number;
  colour?: number;
  /** print | copy | fax | scan | other → figures */
  byService: Record<string, CounterSet>;
  /** paper size (PWG 5101.1 media size name when the device gives one) → figures */
  byPaperSize: Record<string, CounterSet>;
  /** impressions | sheets | … (RFC 3805 PrtMarkerCounterUnitTC) */
  unit?: string;
  /** Unit of byPaperSize, which PWG 5106.1 counts in sheets (media used), not impressions. */
  paperSizeUnit?: string;
  /** figure path ("total", "byService.print.mono", "byPaperSize.iso_a4_210x297mm.total") → source */
  sources: Record<string, FigureSource>;
}

export interface Supply {
  index: string;
  description?: string;
  /** RFC 3805 PrtMarkerSuppliesClassTC: consumed (3) or receptacle (4, e.g. waste toner). */
  class: 'consumed' | 'receptacle' | 'other';
  type: string;
  unit?: string;
  max?: number;
  level?: number;
  /** RFC 3805 §2.2.9: −1 other (no restriction), −2 unknown, −3 "some remaining". */
  levelState: 'known' | 'unrestricted' | 'unknown' | 'some-remaining';
  /** For consumed supplies: % remaining. For receptacles: % full. */
  percent?: number;
}

export interface CounterSnapshot {
  identity: DeviceIdentity;
  figures: CounterFigures;
  supplies: Supply[];
  /** hosts only: what HOST-RESOURCES-MIB said in this reading */
  host?: HostFigures;
}

/** One hrStorageTable row of a host, in bytes (size and used × hrStorageAllocationUnits). */
export interface HostStorage {
  index: string;
  description: string;
  sizeBytes: number;
  usedBytes: number;
  usedPercent: number;
}

/** A PC or server read through HOST-RESOURCES-MIB (RFC 2790). */
export interface HostFigures {
  /** hrSystemUptime in seconds */
  uptimeSeconds?: number;
  /** mean hrProcessorLoad over the processors (each a one-minute average, %) */
  cpuLoadPercent?: number;
  processors: number;
  /** RAM in use (buffers and cache not counted when the agent lists them), % */
  memoryUsedPercent?: number;
  memorySizeBytes?: number;
  disks: HostStorage[];
  /** rows of hrSWInstalledTable */
  installedSoftware?: number;
  /** rows of hrSWRunTable */
  runningProcesses?: number;
  /** application usage: the running programs using the most memory (hrSWRunName, hrSWRunPerfMem) */
  topApplications: Array<{ name: string; processes: number; memoryKBytes: number }>;
}

/** When a host's disk or memory is a fault (percent used); per device, defaults in HOST_THRESHOLDS. */
export interface HostThresholds {
  diskPercent: number;
  memoryPercent: number;
}

export type SnmpVersion = '1' | '2c' | '3';
export interface SnmpV3Config {
  user: string;
  level: 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';
  authProtocol?: 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
  authKey?: string;
  privProtocol?: 'des' | 'aes' | 'aes256b' | 'aes256r';
  privKey?: string;
  /** SNMPv3 context name (snmpsim selects the data file by it). */
  context?: string;
}
export interface SnmpDeviceConfig {
  address: string;
  port?: number;
  version: SnmpVersion;
  community?: string;
  v3?: SnmpV3Config;
  timeoutMs?: number;
  retries?: number;
  /** printer (the default: Printer-MIB) or host (a PC or server: HOST-RESOURCES-MIB) */
  kind?: DeviceKind;
  /** hosts: fault thresholds, when not the defaults */
  thresholds?: Partial<HostThresholds>;
}
export type DeviceKind = 'printer' | 'host';
export interface SimulatedDeviceConfig {
  file: string;
  /** Key of the device in the file; defaults to the device id. */
  name?: string;
}

export interface IppDeviceConfig {
  /** ipp://host[:port]/path or ipps://… (RFC 8010 §4) */
  url: string;
  timeoutMs?: number;
}

export type DeviceRecord =
  | { id: string; driver: 'snmp'; config: SnmpDeviceConfig; addedAt: string }
  | { id: string; driver: 'ipp'; config: IppDeviceConfig; addedAt: string }
  | { id: string; driver: 'simulated'; config: SimulatedDeviceConfig; addedAt: string };
export type DriverName = DeviceRecord['driver'];

/**
 * A driver fetches; it throws TransientError (code DEVICE_UNREACHABLE or DEVICE_ERROR) when
 * the device cannot be read, and never logs configuration (it holds secrets).
 */
export interface DeviceDriver {
  pollFaults(device: DeviceRecord, hint?: FaultHint): Promise<FaultSnapshot>;
  readCounters(device: DeviceRecord): Promise<CounterSnapshot>;
  identify(device: DeviceRecord): Promise<DeviceIdentity>;
}
export type DriverRegistry = Readonly<Partial<Record<DriverName, DeviceDriver>>>;
