/**
 * From IPP printer attributes (RFC 8011 §5.4, PWG 5100.13 IPP Everywhere / JPS3) to the
 * driver-neutral shapes the passes store: faults, supplies, counters, identity.
 *
 * - `printer-state-reasons` keywords map to the same canonical fault codes as SNMP; the
 *   severity comes from the suffix (RFC 8011 §5.4.12): `-error` critical, `-warning`
 *   warning, `-report` info, and no suffix is an error. `printer-state` stopped with no
 *   reason that maps is `offline`.
 * - Supplies from `printer-supply` (the prtMarkerSuppliesTable row as `key=value;` text,
 *   PWG 5100.13 §6.5.8) with `printer-supply-description`, else from `marker-names`,
 *   `marker-levels`, `marker-types` (−1 unrestricted, −2 unknown, −3 some remaining).
 * - Counters from `printer-impressions-completed` and `printer-impressions-completed-col`
 *   (members `monochrome`, `full-color`; PWG 5100.13 / 5106.1).
 * - Every text kept is neutralised like an SNMP string (decodeSnmpString).
 */
import { decodeSnmpString } from '../decoders/walk.js';
import type { CounterFigures, DeviceIdentity, FaultCode, ObservedFault, Severity, Supply } from '../types.js';
import type { IppValue } from './ipp-codec.js';

export type IppAttributes = Map<string, IppValue[]>;

const REASON_CODES: Record<string, FaultCode> = {
  'media-jam': 'jam',
  'media-empty': 'no-paper',
  'media-needed': 'no-paper',
  'input-tray-missing': 'input-tray-missing',
  'toner-empty': 'toner-empty',
  'toner-low': 'toner-low',
  'marker-supply-empty': 'toner-empty',
  'marker-supply-low': 'toner-low',
  'door-open': 'door-open',
  'cover-open': 'cover-open',
  'interlock-open': 'cover-open',
  'marker-waste-full': 'waste-full',
  'marker-waste-almost-full': 'waste-near-full',
  'output-area-full': 'output-full',
  'output-tray-missing': 'output-full',
  'opc-life-over': 'drum-life-over',
  'opc-near-eol': 'drum-life-over',
  'developer-empty': 'toner-empty',
  'developer-low': 'toner-low',
  shutdown: 'offline',
  'offline-report': 'offline',
};

const STATES: Record<number, string> = { 3: 'idle', 4: 'processing', 5: 'stopped' };

function text(value: IppValue | undefined): string | undefined {
  if (typeof value === 'string') return decodeSnmpString(Buffer.from(value, 'utf8')) || undefined;
  if (Buffer.isBuffer(value)) return decodeSnmpString(value) || undefined;
  return undefined;
}

function int(value: IppValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

export function printerState(attrs: IppAttributes): string | undefined {
  const state = int(attrs.get('printer-state')?.[0]);
  return state === undefined ? undefined : (STATES[state] ?? String(state));
}

export function faultsFromAttributes(attrs: IppAttributes): ObservedFault[] {
  const out = new Map<string, ObservedFault>();
  for (const value of attrs.get('printer-state-reasons') ?? []) {
    if (typeof value !== 'string' || value === 'none') continue;
    const match = /^([a-z0-9-]+?)(-(error|warning|report))?$/.exec(value);
    if (!match) continue;
    const base = match[1] as string;
    const code = REASON_CODES[base] ?? REASON_CODES[value];
    if (!code) continue;
    const severity: Severity = match[3] === 'warning' ? 'warning' : match[3] === 'report' ? 'info' : 'critical';
    const key = `${code}|`;
    const seen = out.get(key);
    // two reasons for one code (toner-low and marker-supply-low): keep the more severe
    if (!seen || rank(severity) > rank(seen.severity)) {
      out.set(key, { code, subunit: '', severity, source: `printer-state-reasons ${decodeSnmpString(Buffer.from(value))}` });
    }
  }
  if (out.size === 0 && printerState(attrs) === 'stopped') {
    out.set('offline|', { code: 'offline', subunit: '', severity: 'critical', source: 'printer-state stopped' });
  }
  return [...out.values()];
}

function rank(s: Severity): number {
  return s === 'critical' ? 2 : s === 'warning' ? 1 : 0;
}

const SUPPLY_CLASS: Record<string, Supply['class']> = {
  supplyThatIsConsumed: 'consumed',
  receptacleThatIsFilled: 'receptacle',
};

export function suppliesFromAttributes(attrs: IppAttributes): Supply[] {
  const rows = attrs.get('printer-supply') ?? [];
  const descriptions = attrs.get('printer-supply-description') ?? [];
  if (rows.length > 0) {
    return rows.map((row, i) => {
      const fields = parseSupplyRow(row);
      const level = intField(fields.level);
      const max = intField(fields.maxcapacity);
      const klass = SUPPLY_CLASS[fields.class ?? ''] ?? (fields.class ? 'other' : 'consumed');
      return supply(fields.index ?? String(i + 1), text(descriptions[i]), klass, fields.type ?? 'unknown', fields.unit, max, level);
    });
  }
  const names = attrs.get('marker-names') ?? [];
  const levels = attrs.get('marker-levels') ?? [];
  const types = attrs.get('marker-types') ?? [];
  return levels.map((l, i) => {
    const type = typeof types[i] === 'string' ? (types[i] as string) : 'unknown';
    const receptacle = /waste/.test(type);
    return supply(String(i + 1), text(names[i]), receptacle ? 'receptacle' : 'consumed', type, 'percent', 100, int(l));
  });
}

function supply(
  index: string,
  description: string | undefined,
  klass: Supply['class'],
  type: string,
  unit: string | undefined,
  max: number | undefined,
  level: number | undefined,
): Supply {
  const s: Supply = {
    index: decodeSnmpString(Buffer.from(index)).slice(0, 16),
    ...(description ? { description } : {}),
    class: klass,
    type: decodeSnmpString(Buffer.from(type)).slice(0, 64),
    ...(unit ? { unit: decodeSnmpString(Buffer.from(unit)).slice(0, 32) } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(level !== undefined ? { level } : {}),
    levelState: level === -1 ? 'unrestricted' : level === -3 ? 'some-remaining' : level === undefined || level < 0 ? 'unknown' : 'known',
  };
  if (s.levelState === 'known' && max !== undefined && max > 0 && level !== undefined) {
    const left = Math.min(100, Math.max(0, Math.round((level / max) * 100)));
    s.percent = klass === 'receptacle' ? 100 - left : left;
  }
  return s;
}

/** `index=1;class=supplyThatIsConsumed;type=toner;level=75;…` (PWG 5100.13 §6.5.8). */
export function parseSupplyRow(value: IppValue): Record<string, string> {
  const raw = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('latin1') : '';
  const out: Record<string, string> = {};
  for (const part of raw.slice(0, 1023).split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    if (/^[a-z]{1,32}$/.test(key) && !(key in out)) out[key] = part.slice(eq + 1).trim();
  }
  return out;
}

function intField(v: string | undefined): number | undefined {
  return v !== undefined && /^-?\d{1,9}$/.test(v) ? Number(v) : undefined;
}

export function countersFromAttributes(attrs: IppAttributes): CounterFigures {
  const figures: CounterFigures = { byService: {}, byPaperSize: {}, sources: {}, unit: 'impressions' };
  const total = int(attrs.get('printer-impressions-completed')?.[0]);
  if (total !== undefined && total >= 0) {
    figures.total = total;
    figures.sources.total = { profile: 'ipp', oids: ['printer-impressions-completed'] };
  }
  const col = attrs.get('printer-impressions-completed-col')?.[0];
  if (col && typeof col === 'object' && !Buffer.isBuffer(col)) {
    const mono = int(col.monochrome?.[0]);
    const colour = int(col['full-color']?.[0]);
    if (mono !== undefined && mono >= 0) {
      figures.mono = mono;
      figures.sources.mono = { profile: 'ipp', oids: ['printer-impressions-completed-col.monochrome'] };
    }
    if (colour !== undefined && colour >= 0) {
      figures.colour = colour;
      figures.sources.colour = { profile: 'ipp', oids: ['printer-impressions-completed-col.full-color'] };
    }
  }
  return figures;
}

export function identityFromAttributes(attrs: IppAttributes): DeviceIdentity {
  const model = text(attrs.get('printer-make-and-model')?.[0]);
  const deviceId = typeof attrs.get('printer-device-id')?.[0] === 'string' ? (attrs.get('printer-device-id')?.[0] as string) : '';
  const sn = /(?:^|;)\s*(?:SN|SERN|SERIALNUMBER):([^;]{1,64})/i.exec(deviceId)?.[1];
  const uuid = text(attrs.get('printer-uuid')?.[0]);
  const info = text(attrs.get('printer-info')?.[0]);
  const serial = sn ? decodeSnmpString(Buffer.from(sn)) : uuid;
  return {
    ...(info ? { sysDescr: info } : {}),
    ...(model ? { model } : {}),
    ...(serial ? { serial, serialSource: sn ? 'printer-device-id SN' : 'printer-uuid' } : {}),
  };
}
