/**
 * The IPP/1.1–2.0 message encoding (RFC 8010 §3), pure: a request is encoded, a response
 * decoded into attribute groups. Only what a monitor needs: Get-Printer-Attributes and the
 * value types a printer answers with, collections (RFC 8010 §3.1.6) included.
 *
 * A response comes from a device on the customer LAN: every length is checked against the
 * bytes that are there, nesting and counts are bounded, and anything malformed is an
 * IppParseError (the driver turns it into a transient device error). Text values are
 * returned as decoded; the driver neutralises what it keeps.
 */

export const IPP_OPERATION = { getPrinterAttributes: 0x000b } as const;

export const TAG = {
  operationAttributes: 0x01,
  jobAttributes: 0x02,
  endOfAttributes: 0x03,
  printerAttributes: 0x04,
  unsupportedAttributes: 0x05,
  unsupported: 0x10,
  unknown: 0x12,
  noValue: 0x13,
  integer: 0x21,
  boolean: 0x22,
  enum: 0x23,
  octetString: 0x30,
  dateTime: 0x31,
  resolution: 0x32,
  rangeOfInteger: 0x33,
  begCollection: 0x34,
  textWithLanguage: 0x35,
  nameWithLanguage: 0x36,
  endCollection: 0x37,
  text: 0x41,
  name: 0x42,
  keyword: 0x44,
  uri: 0x45,
  charset: 0x47,
  naturalLanguage: 0x48,
  mimeMediaType: 0x49,
  memberAttrName: 0x4a,
} as const;

export type IppValue = number | boolean | string | Buffer | IppCollection | null;
export interface IppCollection {
  [member: string]: IppValue[];
}

export interface IppGroup {
  tag: number;
  attributes: Map<string, IppValue[]>;
}

export interface IppResponse {
  version: string;
  statusCode: number;
  requestId: number;
  groups: IppGroup[];
}

export class IppParseError extends Error {}

const MAX_ATTRIBUTES = 4096;
const MAX_DEPTH = 8;

/** An operation request with its operation attributes (charset, language, printer-uri, …). */
export function encodeRequest(operation: number, requestId: number, attributes: { tag: number; name: string; values: string[] }[]): Buffer {
  const parts: Buffer[] = [Buffer.from([2, 0, operation >> 8, operation & 0xff]), int32(requestId), Buffer.from([TAG.operationAttributes])];
  for (const a of attributes) {
    a.values.forEach((v, i) => {
      parts.push(attribute(a.tag, i === 0 ? a.name : '', Buffer.from(v, 'utf8')));
    });
  }
  parts.push(Buffer.from([TAG.endOfAttributes]));
  return Buffer.concat(parts);
}

function attribute(tag: number, name: string, value: Buffer): Buffer {
  const n = Buffer.from(name, 'utf8');
  const head = Buffer.alloc(3);
  head[0] = tag;
  head.writeUInt16BE(n.length, 1);
  const vl = Buffer.alloc(2);
  vl.writeUInt16BE(value.length, 0);
  return Buffer.concat([head, n, vl, value]);
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

class Cursor {
  at = 0;
  constructor(readonly b: Buffer) {}
  need(n: number, what: string): void {
    if (this.at + n > this.b.length) throw new IppParseError(`truncated ${what} at byte ${this.at}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.b[this.at++] as number;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.b.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

export function decodeResponse(body: Buffer): IppResponse {
  const c = new Cursor(body);
  const major = c.u8('version');
  const minor = c.u8('version');
  if (major < 1 || major > 2) throw new IppParseError(`IPP version ${major}.${minor} is not 1.x or 2.x`);
  const statusCode = c.u16('status-code');
  c.need(4, 'request-id');
  const requestId = body.readInt32BE(c.at);
  c.at += 4;
  const groups: IppGroup[] = [];
  let group: IppGroup | undefined;
  let last: IppValue[] | undefined;
  let count = 0;
  for (;;) {
    const tag = c.u8('tag');
    if (tag === TAG.endOfAttributes) break;
    if (tag < 0x10) {
      group = { tag, attributes: new Map() };
      groups.push(group);
      last = undefined;
      continue;
    }
    if (!group) throw new IppParseError(`an attribute before any group at byte ${c.at - 1}`);
    if (++count > MAX_ATTRIBUTES) throw new IppParseError(`more than ${MAX_ATTRIBUTES} attribute values`);
    const name = c.bytes(c.u16('name-length'), 'name').toString('utf8');
    const value = readValue(c, tag, 0);
    if (name === '') {
      if (!last) throw new IppParseError(`an additional value without an attribute at byte ${c.at}`);
      last.push(value);
    } else {
      last = [value];
      group.attributes.set(name, last);
    }
  }
  return { version: `${major}.${minor}`, statusCode, requestId, groups };
}

function readValue(c: Cursor, tag: number, depth: number): IppValue {
  const raw = c.bytes(c.u16('value-length'), 'value');
  switch (tag) {
    case TAG.integer:
    case TAG.enum:
      if (raw.length !== 4) throw new IppParseError(`an integer of ${raw.length} bytes`);
      return raw.readInt32BE(0);
    case TAG.boolean:
      if (raw.length !== 1) throw new IppParseError(`a boolean of ${raw.length} bytes`);
      return raw[0] !== 0;
    case TAG.begCollection:
      return readCollection(c, depth + 1);
    case TAG.unsupported:
    case TAG.unknown:
    case TAG.noValue:
      return null;
    case TAG.octetString:
    case TAG.dateTime:
    case TAG.resolution:
    case TAG.rangeOfInteger:
      return Buffer.from(raw);
    case TAG.textWithLanguage:
    case TAG.nameWithLanguage: {
      // language-length, language, text-length, text (RFC 8010 §3.9)
      const inner = new Cursor(raw);
      inner.bytes(inner.u16('language length'), 'language');
      return inner.bytes(inner.u16('text length'), 'text').toString('utf8');
    }
    default:
      return raw.toString('utf8');
  }
}

function readCollection(c: Cursor, depth: number): IppCollection {
  if (depth > MAX_DEPTH) throw new IppParseError(`collections nested deeper than ${MAX_DEPTH}`);
  // no prototype: a member named __proto__ from a hostile printer is just a member
  const out = Object.create(null) as IppCollection;
  let member: IppValue[] | undefined;
  for (;;) {
    const tag = c.u8('collection tag');
    const nameLength = c.u16('member name-length');
    c.bytes(nameLength, 'member name'); // always empty inside a collection
    if (tag === TAG.endCollection) {
      c.bytes(c.u16('value-length'), 'end value');
      return out;
    }
    if (tag === TAG.memberAttrName) {
      const key = c.bytes(c.u16('member name'), 'member name').toString('utf8');
      member = [];
      out[key] = member;
      continue;
    }
    if (tag < 0x10) throw new IppParseError('a group tag inside a collection');
    if (!member) throw new IppParseError('a collection value without a member name');
    member.push(readValue(c, tag, depth));
  }
}

/** The printer attributes of a response, merged (a printer sends one group). */
export function printerAttributes(response: IppResponse): Map<string, IppValue[]> {
  const out = new Map<string, IppValue[]>();
  for (const g of response.groups) if (g.tag === TAG.printerAttributes) for (const [k, v] of g.attributes) out.set(k, v);
  return out;
}

/** For tests and fakes: encode a response with one printer-attributes group. */
export function encodeResponse(
  statusCode: number,
  requestId: number,
  attrs: { tag: number; name: string; values: (string | number)[] }[],
): Buffer {
  const parts: Buffer[] = [
    Buffer.from([2, 0, statusCode >> 8, statusCode & 0xff]),
    int32(requestId),
    Buffer.from([TAG.operationAttributes]),
  ];
  parts.push(attribute(TAG.charset, 'attributes-charset', Buffer.from('utf-8')));
  parts.push(Buffer.from([TAG.printerAttributes]));
  for (const a of attrs) {
    a.values.forEach((v, i) => {
      parts.push(attribute(a.tag, i === 0 ? a.name : '', typeof v === 'number' ? int32(v) : Buffer.from(v, 'utf8')));
    });
  }
  parts.push(Buffer.from([TAG.endOfAttributes]));
  return Buffer.concat(parts);
}
