/**
 * Loader for snmpsim's `.snmprec` walk format, one object per line: `OID|TAG|VALUE`. TAG is
 * the BER tag number (2 INTEGER, 4 OCTET STRING, 5 NULL, 6 OID, 64 IpAddress, 65 Counter32,
 * 66 Gauge32, 67 TimeTicks, 68 Opaque, 70 Counter64); an `x` suffix means VALUE is hex
 * (`4x|2000` is the two octets 0x20 0x00). Blank lines and `#` comments are skipped.
 * snmpsim's variation modules (`TAG:module`) are not supported: real walks don't use them.
 */
import fs from 'node:fs';
import { ParseError } from '../../errors.js';
import { normaliseOid, SMI, type Walk, type WalkValue } from './walk.js';

export function parseSnmprec(text: string, source = 'snmprec'): Walk {
  const walk: Walk = new Map();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!line.trim() || line.startsWith('#')) continue;
    const first = line.indexOf('|');
    const second = line.indexOf('|', first + 1);
    if (first < 0 || second < 0) {
      throw new ParseError('SNMPREC_SYNTAX', `${source}:${i + 1}: expected OID|TAG|VALUE, e.g. 1.3.6.1.2.1.1.5.0|4|printer-01`, {
        line: i + 1,
      });
    }
    const oid = normaliseOid(line.slice(0, first).trim());
    const tag = line.slice(first + 1, second).trim();
    const raw = line.slice(second + 1);
    if (!/^\d+(\.\d+)*$/.test(oid)) {
      throw new ParseError('SNMPREC_SYNTAX', `${source}:${i + 1}: "${oid}" is not a numeric OID`, { line: i + 1 });
    }
    walk.set(oid, parseValue(tag, raw, `${source}:${i + 1}`, i + 1));
  }
  return walk;
}

export function loadSnmprec(file: string): Walk {
  return parseSnmprec(fs.readFileSync(file, 'utf8'), file);
}

function parseValue(tag: string, raw: string, where: string, line: number): WalkValue {
  const hex = tag.endsWith('x');
  const type = Number(hex ? tag.slice(0, -1) : tag);
  const bytes = (): Buffer => {
    if (!hex) return Buffer.from(raw, 'utf8');
    const clean = raw.replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(clean)) fail('an even number of hex digits');
    return Buffer.from(clean, 'hex');
  };
  const fail = (expected: string): never => {
    throw new ParseError('SNMPREC_VALUE', `${where}: tag ${tag} needs ${expected}, got "${raw}"`, { line });
  };
  const integer = (): number => {
    const text = hex ? String(Number.parseInt(raw, 16)) : raw.trim();
    if (!/^-?\d+$/.test(text)) fail('an integer');
    return Number(text);
  };
  switch (type) {
    case SMI.Integer:
    case SMI.Counter32:
    case SMI.Gauge32:
    case SMI.TimeTicks:
      return { type, value: integer() };
    case SMI.Counter64:
      if (!/^\d+$/.test(raw.trim())) fail('an unsigned integer');
      return { type, value: BigInt(raw.trim()) };
    case SMI.OctetString:
    case SMI.Opaque:
      return { type, value: bytes() };
    case SMI.ObjectIdentifier:
      return { type, value: normaliseOid(raw.trim()) };
    case SMI.IpAddress:
      return { type, value: hex ? [...bytes()].join('.') : raw.trim() };
    case SMI.Null:
      return { type, value: null };
    default:
      return fail('a known tag (2, 4, 4x, 5, 6, 64, 65, 66, 67, 68, 70)');
  }
}

/** The inverse, for tests and the live snmpd data file: one line per object, in walk order. */
export function formatSnmprec(walk: Walk): string {
  const lines: string[] = [];
  for (const [oid, v] of walk) {
    if (v.type === 4 || v.type === 68) {
      const printable = /^[\x20-\x7e]*$/.test(v.value.toString('latin1'));
      lines.push(printable ? `${oid}|${v.type}|${v.value.toString('latin1')}` : `${oid}|${v.type}x|${v.value.toString('hex')}`);
    } else {
      lines.push(`${oid}|${v.type}|${v.value ?? ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
