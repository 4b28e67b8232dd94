import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REFUSAL } from '../errors.js';
import { caseTally } from '../testing.js';
import { isPlainText } from '../text/show.js';
import { formatVersionText } from '../version/version-text.js';
import { COUNTER_READING_FORMAT, type CounterReading } from './counter-report.js';
import { DecodeError } from './decoder.js';
import type { ReportedFault } from './fault-report.js';
import { type BodyOf, decodeBody, encodeBody, isMessageType, MESSAGE_TYPES, type MessageType, PROTOCOL } from './index.js';

const NOW = new Date('2026-12-03T10:00:00Z');
const RUNS = 200;

// --- arbitraries for well-formed bodies --------------------------------------------------
const id = fc.stringMatching(/^[A-Za-z0-9._:@/-]{1,40}$/);
const code = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);
const plain = (maxLength: number) => fc.string({ maxLength }).filter(isPlainText);
const iso = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: NOW, noInvalidDate: true }).map((d) => d.toISOString());
const count = fc.option(fc.nat(), { nil: null });
const version = fc.stringMatching(/^\d{1,3}\.\d{1,3}\.\d{2}(-\d{1,3})?$/);
const day = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10).replaceAll('-', '/'));
const versionText = fc
  .record({
    softwareVersion: version,
    modules: fc.uniqueArray(
      fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9]{0,10}\.exe$/), version: fc.stringMatching(/^\d\.\d\.\d{2}$/), date: day }),
      { selector: (m) => m.name, maxLength: 4 },
    ),
  })
  .map((r) => ({ softwareVersion: r.softwareVersion, versionText: formatVersionText(r) }));

const fault: fc.Arbitrary<ReportedFault> = fc.record(
  {
    eventId: id,
    kind: fc.constantFrom('raised' as const, 'cleared' as const),
    deviceId: id,
    code,
    subunit: plain(128),
    severity: fc.constantFrom('critical', 'warning', 'info'),
    source: plain(200),
    raisedAt: iso,
    clearedAt: fc.option(iso, { nil: null }),
    resent: fc.boolean(),
  },
  { requiredKeys: ['eventId', 'kind', 'deviceId', 'code', 'subunit', 'severity', 'raisedAt', 'clearedAt'] },
);
const counterSet = fc.record({ total: fc.nat(), mono: fc.nat(), colour: fc.nat() }, { requiredKeys: [] });
const reading: fc.Arbitrary<CounterReading> = fc.record({
  format: fc.constant(COUNTER_READING_FORMAT),
  readingId: id,
  deviceId: id,
  serial: fc.option(plain(128), { nil: null }),
  model: fc.option(plain(100), { nil: null }),
  readAt: iso,
  total: count,
  mono: count,
  colour: count,
  byService: fc.dictionary(fc.constantFrom('print', 'copy', 'fax', 'scan'), counterSet, { maxKeys: 3 }),
  byPaperSize: fc.dictionary(fc.constantFrom('iso_a4_210x297mm', 'iso_a3_297x420mm'), counterSet, { maxKeys: 2 }),
  unit: fc.option(fc.constantFrom('impressions', 'sheets'), { nil: null }),
  paperSizeUnit: fc.option(fc.constant('sheets'), { nil: null }),
  sources: fc.dictionary(
    fc.constantFrom('total', 'mono'),
    fc.record({ profile: fc.constantFrom('sharp', 'pwg'), oids: fc.array(fc.constant('1.3.6.1.2.1.43.10.2.1.4.1.1'), { maxLength: 2 }) }),
    { maxKeys: 2 },
  ),
  usage: fc.option(fc.record({ since: iso, total: count, mono: count, colour: count }), { nil: null }),
  flags: fc.array(fc.constantFrom('first-reading', 'no-counters', 'reset:total'), { maxLength: 3 }),
  supplies: fc.array(
    fc.record({
      index: fc.stringMatching(/^\d{1,3}$/),
      description: plain(60),
      class: fc.constantFrom('consumed' as const, 'receptacle' as const, 'other' as const),
      type: fc.constantFrom('toner', 'wasteToner'),
      levelState: fc.constantFrom('known' as const, 'unknown' as const),
      percent: fc.integer({ min: 0, max: 100 }),
    }),
    { maxLength: 3 },
  ),
});
const outcome = fc.constantFrom('installed' as const, 'already-installed' as const, 'rolled-back' as const, 'refused' as const);

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const updatePartBody = fc
  .record({ rolloutId: id, packageId: id, softwareVersion: version, parts: fc.integer({ min: 1, max: 6 }), seed: fc.nat() })
  .chain((r) =>
    fc
      .record({
        hashes: fc.array(hex64, { minLength: r.parts, maxLength: r.parts }),
        pkesk: fc.base64String({ minLength: 4, maxLength: 200 }),
      })
      .map((x) => {
        const part = (r.seed % r.parts) + 1;
        const body: BodyOf<'update-part'> = {
          rolloutId: r.rolloutId,
          packageId: r.packageId,
          softwareVersion: r.softwareVersion,
          part,
          parts: r.parts,
          sha256: x.hashes[part - 1] as string,
        };
        if (part === 1) body.first = { pkesk: x.pkesk || 'AAAA', totalSize: r.parts * 1000, partHashes: x.hashes };
        return body;
      }),
  );

const BODIES: { [T in MessageType]: fc.Arbitrary<BodyOf<T>> } = {
  'update-part': updatePartBody,
  'parts-request': fc.record({
    rolloutId: id,
    packageId: id,
    missing: fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 20 }).map((l) => l.sort((a, b) => a - b)),
  }),
  update: fc.record({ rolloutId: id, packageId: id, softwareVersion: version }, { requiredKeys: ['rolloutId', 'softwareVersion'] }),
  'update-result': fc
    .tuple(
      fc.record(
        {
          rolloutId: id,
          packageId: fc.option(id, { nil: null }),
          outcome,
          reason: fc.string({ maxLength: 80 }),
          reasonCode: code,
          logTail: fc.array(plain(40), { minLength: 1, maxLength: 5 }).map((l) => `${l.join('\n')}x`),
        },
        { requiredKeys: ['rolloutId', 'packageId', 'outcome'] },
      ),
      versionText,
    )
    .map(([r, v]) => ({ ...r, ...v })),
  'version-request': fc.constant({}),
  'version-report': versionText,
  'fault-report': fc.record({ reports: fc.array(fault, { maxLength: 5 }) }),
  'fault-ack': fc.record(
    {
      acks: fc.array(fc.record({ eventId: id, kind: fc.constantFrom('raised' as const, 'cleared' as const) }), { maxLength: 5 }),
      reportMessageId: id,
    },
    { requiredKeys: ['acks'] },
  ),
  'counter-request': fc.constant({}),
  'counter-report': fc.record({
    status: fc.constantFrom('ok', 'nothing-new', 'not-collected'),
    readings: fc.array(reading, { maxLength: 3 }),
    more: fc.boolean(),
  }),
  'key-rotation': fc.record({ newKey: fc.string({ maxLength: 200 }), fingerprint: fc.stringMatching(/^[0-9A-F]{40}$/) }),
  heartbeat: fc.record({ devices: fc.array(fc.record({ deviceId: id, lastAnsweredAt: fc.option(iso, { nil: null }) }), { maxLength: 5 }) }),
};

/** What a receiver gets: the encoded body after the JSON round trip of the signed bytes. */
const wire = (type: MessageType, body: unknown) => JSON.parse(JSON.stringify(encodeBody(type, body as never)));

describe('protocol table', () => {
  it('holds every message type once, each with an encoder and a decoder', () => {
    expect(MESSAGE_TYPES).toHaveLength(12);
    for (const type of MESSAGE_TYPES) {
      expect(isMessageType(type)).toBe(true);
      expect(typeof PROTOCOL[type].encode).toBe('function');
      expect(typeof PROTOCOL[type].decode).toBe('function');
    }
    expect(isMessageType('toString')).toBe(false);
    expect(isMessageType('alert')).toBe(false);
  });
});

describe.each(MESSAGE_TYPES)('%s: round trip', (type) => {
  it('property: decode(encode(body)) = body, through the signed JSON', () => {
    const t = caseTally();
    fc.assert(
      fc.property(BODIES[type] as fc.Arbitrary<unknown>, (body) => {
        expect(decodeBody(type, wire(type, body), NOW)).toEqual(body);
        t.decoded();
      }),
      { numRuns: RUNS },
    );
    t.atLeast('decoded', 1, RUNS);
  }, 30_000);
});

// --- one malformed field at a time: the refusal names it ---------------------------------
const VERSION_TEXT = 'Software Version\t1.0.00-1\n---Modules---\nabcd.exe\t1.0.00\t2002/01/01\n';
const GOOD_FAULT = {
  eventId: 'ev-1',
  kind: 'raised',
  deviceId: 'mfp-1',
  code: 'jam',
  subunit: 'tray 1',
  severity: 'critical',
  source: 'prtAlertCode 8 (jam)',
  raisedAt: '2026-12-03T09:00:00Z',
  clearedAt: null,
};
const GOOD_READING = { readingId: 'r1', deviceId: 'mfp-1', readAt: '2026-12-03T09:00:00Z', total: 5 };
const GOOD_RESULT = { rolloutId: 'R1', packageId: 'P1', outcome: 'installed', softwareVersion: '1.0.00-1', versionText: VERSION_TEXT };
const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const GOOD_PART1 = {
  rolloutId: 'R1',
  packageId: 'P1',
  softwareVersion: '1.0.02-0',
  part: 1,
  parts: 2,
  sha256: H1,
  pkesk: 'AAAA',
  totalSize: 9,
  partHashes: [H1, H2],
};
const up = (f: Record<string, unknown>) => ({ ...GOOD_PART1, ...f });
const fr = (f: Record<string, unknown>) => ({ reports: [{ ...GOOD_FAULT, ...f }] });
const cr = (r: Record<string, unknown>) => ({ status: 'ok', readings: [{ ...GOOD_READING, ...r }] });
const { BAD_FIELD, BAD_VERSION, MALFORMED, PART_OUT_OF_RANGE, TOO_MANY_PARTS, PART_LIST_MISMATCH } = REFUSAL;

const MALFORMED_CASES: [MessageType, unknown, string, string][] = [
  ['update', 'not an object', 'body', MALFORMED],
  ['update', { softwareVersion: '1.0.02-0' }, 'rolloutId', MALFORMED],
  ['update', { rolloutId: 'R1', softwareVersion: 102 }, 'softwareVersion', MALFORMED],
  ['update-result', { ...GOOD_RESULT, rolloutId: 7 }, 'rolloutId', MALFORMED],
  ['update-result', { ...GOOD_RESULT, outcome: 'pwned' }, 'outcome', MALFORMED],
  ['update-result', { ...GOOD_RESULT, versionText: undefined }, 'versionText', MALFORMED],
  ['update-result', { ...GOOD_RESULT, softwareVersion: '1.0.02-0' }, 'softwareVersion', MALFORMED],
  ['update-result', { ...GOOD_RESULT, logTail: 5 }, 'logTail', MALFORMED],
  ['version-report', { versionText: 102 }, 'versionText', MALFORMED],
  ['version-report', { versionText: 'Software Version\tnope\n---Modules---\n' }, 'versionText', BAD_VERSION],
  ['version-report', { softwareVersion: '2.0.00', versionText: VERSION_TEXT }, 'softwareVersion', MALFORMED],
  ['version-request', [], 'body', MALFORMED],
  ['counter-request', null, 'body', MALFORMED],
  ['fault-report', { reports: 'x' }, 'reports', MALFORMED],
  ['fault-report', { reports: Array(1001).fill(GOOD_FAULT) }, 'reports', BAD_FIELD],
  ['fault-report', { reports: [7] }, 'reports[0]', MALFORMED],
  ['fault-report', fr({ kind: 'exploded' }), 'reports[0].kind', MALFORMED],
  ['fault-report', fr({ severity: 'doom' }), 'reports[0].severity', BAD_FIELD],
  ['fault-report', fr({ clearedAt: 'yesterday' }), 'reports[0].clearedAt', BAD_FIELD],
  ['fault-report', fr({ source: 'x'.repeat(1025) }), 'reports[0].source', BAD_FIELD],
  ['fault-report', fr({ eventId: 'ev 1' }), 'reports[0].eventId', BAD_FIELD],
  ['fault-report', fr({ deviceId: 5 }), 'reports[0].deviceId', MALFORMED],
  ['fault-report', fr({ code: 'JAM!' }), 'reports[0].code', BAD_FIELD],
  ['fault-report', fr({ subunit: 'tray\x1b[2J' }), 'reports[0].subunit', BAD_FIELD],
  ['fault-report', fr({ raisedAt: '1999-12-31T23:59:59Z' }), 'reports[0].raisedAt', BAD_FIELD],
  ['fault-ack', { acks: 'all' }, 'acks', MALFORMED],
  ['counter-report', { status: 'OK!', readings: [] }, 'status', BAD_FIELD],
  ['counter-report', { status: 'ok', readings: {} }, 'readings', MALFORMED],
  ['counter-report', cr({ readingId: '' }), 'readings[0].readingId', BAD_FIELD],
  ['counter-report', cr({ deviceId: 'mfp\u202e1' }), 'readings[0].deviceId', BAD_FIELD],
  ['counter-report', cr({ readAt: '2099-01-01T00:00:00Z' }), 'readings[0].readAt', BAD_FIELD],
  ['counter-report', cr({ serial: 'S\x00' }), 'readings[0].serial', BAD_FIELD],
  ['counter-report', cr({ total: -1 }), 'readings[0].total', BAD_FIELD],
  ['counter-report', cr({ mono: 1.5 }), 'readings[0].mono', BAD_FIELD],
  ['counter-report', cr({ colour: '3' }), 'readings[0].colour', BAD_FIELD],
  ['counter-report', cr({ model: 'x'.repeat(257) }), 'readings[0].model', BAD_FIELD],
  ['counter-report', cr({ byService: { copy: { pages: 1 } } }), 'readings[0].byService.copy.pages', MALFORMED],
  ['counter-report', cr({ byPaperSize: { a4: { total: -2 } } }), 'readings[0].byPaperSize.a4.total', BAD_FIELD],
  ['counter-report', cr({ supplies: [{ index: '1', percent: 'full' }] }), 'readings[0].supplies[0].percent', BAD_FIELD],
  ['counter-report', cr({ flags: [5] }), 'readings[0].flags[0]', MALFORMED],
  ['counter-report', cr({ pad: 'x'.repeat(70_000) }), 'readings[0]', BAD_FIELD],
  ['update-part', up({ part: 3 }), 'part', PART_OUT_OF_RANGE],
  ['update-part', up({ part: 0 }), 'part', PART_OUT_OF_RANGE],
  ['update-part', up({ parts: 10_001 }), 'parts', TOO_MANY_PARTS],
  ['update-part', up({ part: 1.5 }), 'part', MALFORMED],
  ['update-part', up({ sha256: 'A'.repeat(64) }), 'sha256', BAD_FIELD],
  ['update-part', up({ packageId: 'p 1' }), 'packageId', BAD_FIELD],
  ['update-part', up({ pkesk: undefined }), 'pkesk', MALFORMED],
  ['update-part', up({ pkesk: 'not base64!' }), 'pkesk', BAD_FIELD],
  ['update-part', up({ totalSize: 1 }), 'totalSize', BAD_FIELD],
  ['update-part', up({ partHashes: [H1] }), 'partHashes', PART_LIST_MISMATCH],
  ['update-part', up({ partHashes: [H2, H2] }), 'partHashes', PART_LIST_MISMATCH],
  ['update-part', up({ partHashes: [H1, 'x'] }), 'partHashes[1]', BAD_FIELD],
  ['parts-request', { rolloutId: 'R1', packageId: 'P1', missing: [] }, 'missing', BAD_FIELD],
  ['parts-request', { rolloutId: 'R1', packageId: 'P1', missing: [2, 2] }, 'missing[1]', BAD_FIELD],
  ['parts-request', { rolloutId: 'R1', packageId: 'P1', missing: [0] }, 'missing[0]', BAD_FIELD],
  ['parts-request', { rolloutId: 'R1', packageId: 'P1', missing: ['1'] }, 'missing[0]', MALFORMED],
  ['key-rotation', { fingerprint: 'AB' }, 'newKey', MALFORMED],
  ['key-rotation', { newKey: 'k', fingerprint: 12 }, 'fingerprint', MALFORMED],
  ['heartbeat', { devices: {} }, 'devices', MALFORMED],
  ['heartbeat', { devices: [{ deviceId: 'd 1' }] }, 'devices[0].deviceId', BAD_FIELD],
  ['heartbeat', { devices: [{ deviceId: 'd1', lastAnsweredAt: 5 }] }, 'devices[0].lastAnsweredAt', MALFORMED],
];

describe('strict decoders: each malformed field is refused, naming the field', () => {
  it.each(MALFORMED_CASES)('%s: %j → %s', (type, body, field, reason) => {
    let error: unknown;
    try {
      decodeBody(type, body, NOW);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ field, code: reason });
  });

  it('every type has at least one malformed case', () => {
    expect(new Set(MALFORMED_CASES.map(([type]) => type))).toEqual(new Set(MESSAGE_TYPES));
  });

  it('property: a fault report with one field replaced by anything is decoded to plain text or refused naming that field', () => {
    const anyValue = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant([]),
    );
    const t = caseTally();
    const numRuns = 400;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(GOOD_FAULT)), anyValue, (key, value) => {
        try {
          const [f] = decodeBody('fault-report', fr({ [key]: value }), NOW).reports;
          for (const text of [f?.eventId, f?.deviceId, f?.code, f?.subunit, f?.severity, f?.source ?? ''])
            expect(isPlainText(text ?? '')).toBe(true);
          t.decoded();
        } catch (error) {
          expect(error).toBeInstanceOf(DecodeError);
          expect((error as DecodeError).field).toBe(`reports[0].${key}`);
          t.refused();
        }
      }),
      { numRuns },
    );
    t.atLeast('decoded', 0.02, numRuns); // ~7% today
    t.atLeast('refused', 0.5, numRuns); // ~92% today
  }, 30_000);

  it('an update result log tail over the limits is cut, not refused, and the cut is told', async () => {
    const { readUpdateResult } = await import('./update-result.js');
    const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const { body, logTailCut } = readUpdateResult({ ...GOOD_RESULT, logTail: long });
    expect(logTailCut).toBe(true);
    expect(body.logTail?.split('\n')).toHaveLength(40);
    expect(readUpdateResult(GOOD_RESULT).logTailCut).toBe(false);
  });

  it('a deferred update result carries when the install window opens, normalised to UTC', async () => {
    const { readUpdateResult } = await import('./update-result.js');
    const deferred = { ...GOOD_RESULT, outcome: 'deferred', deferredUntil: '2026-12-03T22:00:00+01:00' };
    expect(readUpdateResult(deferred).body.deferredUntil).toBe('2026-12-03T21:00:00.000Z');
    expect(() => readUpdateResult({ ...deferred, deferredUntil: 'tonight' })).toThrow(expect.objectContaining({ field: 'deferredUntil' }));
    expect(() => readUpdateResult({ ...GOOD_RESULT, outcome: 'deferred' })).toThrow(expect.objectContaining({ field: 'deferredUntil' }));
  });

  it('keeps hostile text inside an unchecked field as data (not refused, not altered)', () => {
    const reading = { ...GOOD_READING, sources: { total: { profile: '\x1b[31mred', oids: [] } } };
    const { readings } = decodeBody('counter-report', { status: 'ok', readings: [reading] }, NOW);
    expect(readings[0]?.sources.total?.profile).toBe('\x1b[31mred');
  });
});
