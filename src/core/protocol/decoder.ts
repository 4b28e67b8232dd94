/**
 * The checks every body decoder shares (docs/protocol.md). A sender holds a registered or
 * pinned key, so a compromised one can sign anything: every field is checked for type,
 * charset, length and range before it is acted on, and one bad field refuses the whole
 * message (quarantined with the reason code: BAD_FIELD for an id, code or text outside its
 * charset or length, MALFORMED for a wrong shape or a missing field). Text is kept as sent
 * (a control or bidi character refuses it where a field must be plain); it is neutralised
 * where it is shown (text/show.ts), never here.
 */
import { REFUSAL, type RefusalCode, SecurityError } from '../errors.js';
import { isPlainText } from '../text/show.js';

/** A refused body: the reason code, and the field (path) that broke the rule. */
export class DecodeError extends SecurityError {
  readonly field: string;
  constructor(code: RefusalCode, field: string, message: string) {
    super(code, message);
    this.field = field;
  }
}

/** Device ids, event ids and reading ids: the payload id charset (payload.ts), plus `/`. */
const ID_RE = /^[A-Za-z0-9._:@/-]{1,128}$/;
/** Fault codes: the canonical vocabulary's shape (`toner-low`), open to future codes. */
const CODE_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const DECODE_LIMITS = {
  faults: 1_000,
  readings: 1_000,
  text: 256,
  longText: 1_024,
  mapEntries: 256,
  supplies: 64,
} as const;
/** Earliest time a device event may carry; the latest is one year after the receiver's clock. */
const EARLIEST = Date.parse('2000-01-01T00:00:00Z');
const YEAR_MS = 366 * 24 * 3600 * 1000;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export class Decoder {
  constructor(
    private readonly what: string,
    private readonly now: Date = new Date(0),
  ) {}

  /** A wrong shape or a missing field, with the message as given (no prefix). */
  refuse(field: string, message: string, code: RefusalCode = REFUSAL.MALFORMED): never {
    throw new DecodeError(code, field, message);
  }

  malformed(field: string, message: string): never {
    throw new DecodeError(REFUSAL.MALFORMED, field, `${this.what}: ${message}`);
  }

  badField(field: string, message: string): never {
    throw new DecodeError(REFUSAL.BAD_FIELD, field, `${this.what}: ${field} ${message}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.malformed(field, `${field} is not an object`);
    return value as Record<string, unknown>;
  }

  list(value: unknown, field: string, max: number): unknown[] {
    if (!Array.isArray(value)) this.malformed(field, `${field} is not a list`);
    if (value.length > max) this.badField(field, `holds ${value.length} entries (at most ${max})`);
    return value;
  }

  id(value: unknown, field: string): string {
    if (typeof value !== 'string') this.malformed(field, `${field} is not a string`);
    if (!ID_RE.test(value)) this.badField(field, 'must be 1-128 of A-Z a-z 0-9 . _ : @ / -');
    return value;
  }

  code(value: unknown, field: string): string {
    if (typeof value !== 'string') this.malformed(field, `${field} is not a string`);
    if (!CODE_RE.test(value)) this.badField(field, 'must be 1-64 of a-z 0-9 . _ - (e.g. toner-low)');
    return value;
  }

  text(value: unknown, field: string, max: number = DECODE_LIMITS.text): string {
    if (typeof value !== 'string') this.malformed(field, `${field} is not a string`);
    if (value.length > max) this.badField(field, `is ${value.length} characters long (at most ${max})`);
    if (!isPlainText(value)) this.badField(field, 'holds a control or bidi character');
    return value;
  }

  optionalText(value: unknown, field: string, max?: number): string | undefined {
    return value === undefined || value === null ? undefined : this.text(value, field, max);
  }

  time(value: unknown, field: string): string {
    if (typeof value !== 'string') this.malformed(field, `${field} is not a string`);
    const t = Date.parse(value);
    if (!ISO_RE.test(value) || Number.isNaN(t)) this.badField(field, 'is not an ISO-8601 time (e.g. 2026-12-01T10:00:00Z)');
    if (t < EARLIEST || t > this.now.getTime() + YEAR_MS) this.badField(field, 'is out of range (2000 .. a year from now)');
    return value;
  }

  optionalTime(value: unknown, field: string): string | null {
    return value === undefined || value === null ? null : this.time(value, field);
  }

  count(value: unknown, field: string): number | null {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.badField(field, 'must be a non-negative integer');
    }
    return value;
  }
}

/** One body type on the wire: its encoder (what gets signed) and its strict decoder. */
export interface BodyCodec<T> {
  /** the typed body → the JSON object the sender signs (key order is part of the signed bytes) */
  encode(body: T): Record<string, unknown>;
  /** an untrusted payload body → the typed body, or a DecodeError naming the field */
  decode(value: unknown, now: Date): T;
}

/** The body of a request that carries nothing (version-request, counter-request). */
export type EmptyBody = Record<string, never>;

/** The codec of an empty body: `{}` out; in, an object (extra fields ignored), or a DecodeError. */
export function emptyBodyCodec(what: string): BodyCodec<EmptyBody> {
  return {
    encode: () => ({}),
    decode: (value) => {
      new Decoder(what).object(value, 'body');
      return {};
    },
  };
}
