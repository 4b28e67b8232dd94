/**
 * A "walk": what an SNMP agent answered, as a map from numeric OID (no leading dot) to the
 * typed value. Every decoder in this folder is a pure function over a Walk, so the same code
 * runs on live answers (the driver only fetches) and on `.snmprec` fixtures in unit tests.
 */
import { showText } from '../../text/show.js';

/** ASN.1/SMI tags as they appear on the wire (RFC 2578) and in `.snmprec` files. */
export const SMI = {
  Integer: 2,
  OctetString: 4,
  Null: 5,
  ObjectIdentifier: 6,
  IpAddress: 64,
  Counter32: 65,
  Gauge32: 66,
  TimeTicks: 67,
  Opaque: 68,
  Counter64: 70,
} as const;

export type WalkValue =
  | { type: 2 | 65 | 66 | 67; value: number }
  | { type: 70; value: bigint }
  | { type: 4 | 68; value: Buffer }
  | { type: 6 | 64; value: string }
  | { type: 5; value: null };

export type Walk = Map<string, WalkValue>;

export function normaliseOid(oid: string): string {
  return oid.startsWith('.') ? oid.slice(1) : oid;
}

/** Numeric comparison of dotted OIDs (lexicographic on arcs, as SNMP orders them). */
export function compareOids(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Integer-valued object (INTEGER, Counter32, Gauge32, TimeTicks; Counter64 when it fits). */
export function getInt(walk: Walk, oid: string): number | undefined {
  const v = walk.get(oid);
  if (!v) return undefined;
  if (v.type === 70) return v.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.value) : undefined;
  return typeof v.value === 'number' ? v.value : undefined;
}

export function getBuffer(walk: Walk, oid: string): Buffer | undefined {
  const v = walk.get(oid);
  return v && (v.type === 4 || v.type === 68) ? v.value : undefined;
}

/** A DisplayString / SnmpAdminString, decoded (see decodeSnmpString); empty → undefined. */
export function getString(walk: Walk, oid: string): string | undefined {
  const v = walk.get(oid);
  if (!v) return undefined;
  if (v.type === 4) return decodeSnmpString(v.value) || undefined;
  if (v.type === 6 || v.type === 64) return v.value;
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Printer strings are declared as DisplayString (RFC 2579: ASCII) or, in RFC 3805, as
 * localized text in the printer's prtGeneralCurrentLocalization; real devices send UTF-8,
 * Latin-1 or Shift-JIS-ish bytes and often pad with NULs. UTF-8 when the bytes are valid
 * UTF-8, else Latin-1 (which never fails), NULs stripped, line breaks and tabs made one
 * space, every other control (ESC sequences, C1, bidi overrides) escaped visibly by
 * showText, outer blanks trimmed: a device's text is data from here on, never control.
 */
export function decodeSnmpString(bytes: Buffer): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = bytes.toString('latin1');
  }
  return showText(text.replace(/\0/g, '').replace(/[\t\r\n\v\f]+/g, ' ')).trim();
}

/**
 * Rows of one table column: every OID under `columnOid`, with the index part (the arcs
 * after the column) as a string, in SNMP order.
 */
export function columnEntries(walk: Walk, columnOid: string): Array<[index: string, value: WalkValue]> {
  const prefix = `${columnOid}.`;
  const out: Array<[string, WalkValue]> = [];
  for (const [oid, value] of walk) {
    if (oid.startsWith(prefix)) out.push([oid.slice(prefix.length), value]);
  }
  return out.sort((a, b) => compareOids(a[0], b[0]));
}

/** Indexes present in any of the given columns (a table's rows), in SNMP order. */
export function tableIndexes(walk: Walk, columnOids: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const column of columnOids) for (const [index] of columnEntries(walk, column)) seen.add(index);
  return [...seen].sort(compareOids);
}

/** True when any OID of the walk lies under `prefix`. */
export function hasSubtree(walk: Walk, prefix: string): boolean {
  const p = `${prefix}.`;
  for (const oid of walk.keys()) if (oid === prefix || oid.startsWith(p)) return true;
  return false;
}

/** Copy every object of `from` into `into` (later answers win). */
export function mergeWalk(into: Walk, from: Walk): void {
  for (const [oid, value] of from) into.set(oid, value);
}
