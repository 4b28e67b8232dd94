import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRdsError, REFUSAL } from '../errors.js';
import { caseTally } from '../testing.js';
import { isPlainText } from '../text/show.js';
import { decodeCounterReport } from './counter-report.js';
import { decodeFaultReport } from './fault-report.js';

const NOW = new Date('2026-12-03T10:00:00Z');
const good = {
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

// a value of any JSON shape, biased towards strings with controls and odd numbers
const anyValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('jam', 'mfp-1', '2026-12-03T09:00:00Z', 'raised', 'critical', '', 'x'.repeat(300)),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxKeys: 3 }),
);

describe('host-side decoding of agent reports', () => {
  it('accepts a well-formed fault and a well-formed reading', () => {
    expect(decodeFaultReport({ reports: [good] }, NOW).reports).toHaveLength(1);
    const r = decodeCounterReport(
      {
        status: 'ok',
        readings: [{ readingId: 'r1', deviceId: 'mfp-1', readAt: '2026-12-03T09:00:00Z', total: 5, byService: { copy: { total: 5 } } }],
      },
      NOW,
    );
    expect(r.readings[0]?.total).toBe(5);
  });

  // One field replaced at a time. The decoder gives MALFORMED for a wrong shape (not a
  // string, a missing required field, a kind that is not raised/cleared) and BAD_FIELD for
  // a string outside its charset, length or range (and for any severity not in the list):
  // the generators are split along that line so each case asserts the one code it must give.
  const FAULT_STRINGS = ['eventId', 'deviceId', 'code', 'subunit', 'raisedAt'] as const;
  const FAULT_OPTIONAL = ['source', 'clearedAt'] as const;
  const notAString = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  );
  const someString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('jam', 'mfp-1', 'toner-low', 'tray 1', '2026-12-03T09:00:00Z', '1999-12-31T23:59:59Z', 'critical', '', 'x'.repeat(300)),
  );
  const refusedAs = (run: () => unknown, code: string, field: string) => {
    let error: unknown;
    try {
      run();
    } catch (e) {
      error = e;
    }
    expect(isRdsError(error), String(error)).toBe(true);
    expect(error).toMatchObject({ code, field });
  };

  it('property: a fault field of the wrong shape is refused with MALFORMED, naming the field', () => {
    const t = caseTally();
    const numRuns = 1500;
    const wrongShape = fc.oneof(
      fc.tuple(fc.constantFrom<string>(...FAULT_STRINGS, ...FAULT_OPTIONAL), notAString),
      fc.tuple(fc.constantFrom<string>(...FAULT_STRINGS), fc.constantFrom(null, undefined)),
      fc.tuple(
        fc.constant('kind'),
        anyValue.filter((v) => v !== 'raised' && v !== 'cleared'),
      ),
    );
    fc.assert(
      fc.property(wrongShape, ([field, value]) => {
        refusedAs(() => decodeFaultReport({ reports: [{ ...good, [field]: value }] }, NOW), REFUSAL.MALFORMED, `reports[0].${field}`);
        t.refused();
      }),
      { numRuns },
    );
    t.atLeast('refused', 1, numRuns);
  });

  it('property: a fault text field holding any string is decoded to plain text or refused with BAD_FIELD, naming the field', () => {
    const t = caseTally();
    const numRuns = 3000;
    const anyText = fc.oneof(
      fc.tuple(fc.constantFrom<string>(...FAULT_STRINGS, ...FAULT_OPTIONAL, 'severity'), someString),
      fc.tuple(fc.constant('severity'), notAString), // not in the list: BAD_FIELD whatever its type
    );
    fc.assert(
      fc.property(anyText, ([field, value]) => {
        const body = { reports: [{ ...good, [field]: value }] };
        let f: ReturnType<typeof decodeFaultReport>['reports'][number] | undefined;
        try {
          [f] = decodeFaultReport(body, NOW).reports;
        } catch {
          refusedAs(() => decodeFaultReport(body, NOW), REFUSAL.BAD_FIELD, `reports[0].${field}`);
          t.refused();
          return;
        }
        for (const v of [f?.eventId, f?.deviceId, f?.code, f?.subunit, f?.severity, f?.source ?? ''])
          expect(isPlainText(v ?? '')).toBe(true);
        expect(Number.isNaN(Date.parse(f?.raisedAt ?? ''))).toBe(false);
        t.decoded();
      }),
      { numRuns },
    );
    t.atLeast('decoded', 0.1, numRuns);
    t.atLeast('refused', 0.3, numRuns);
  });

  // The same split for a counter reading: ids, times and texts are MALFORMED when not a
  // string; counts are BAD_FIELD for anything but a safe non-negative integer (or null);
  // counter sets and supplies are MALFORMED when not an object / a list.
  const READING_IDS = ['readingId', 'deviceId', 'readAt'] as const;
  const reading = (field: string, value: unknown) => ({
    status: 'ok',
    readings: [{ readingId: 'r1', deviceId: 'mfp-1', readAt: '2026-12-03T09:00:00Z', [field]: value }],
  });

  it('property: a reading field of the wrong shape is refused with MALFORMED, naming the field', () => {
    const t = caseTally();
    const numRuns = 1500;
    const wrongShape = fc.oneof(
      fc.tuple(fc.constantFrom<string>(...READING_IDS), fc.oneof(notAString, fc.constantFrom(null, undefined))),
      fc.tuple(fc.constantFrom('serial', 'model', 'unit', 'paperSizeUnit'), notAString),
      fc.tuple(
        fc.constantFrom('byService', 'byPaperSize'),
        fc.oneof(fc.double(), fc.integer(), fc.boolean(), someString, fc.array(fc.integer())),
      ),
      fc.tuple(
        fc.constantFrom('supplies', 'flags'),
        fc.oneof(fc.double(), fc.integer(), fc.boolean(), someString, fc.dictionary(fc.string(), fc.integer())),
      ),
    );
    fc.assert(
      fc.property(wrongShape, ([field, value]) => {
        refusedAs(() => decodeCounterReport(reading(field, value), NOW), REFUSAL.MALFORMED, `readings[0].${field}`);
        t.refused();
      }),
      { numRuns },
    );
    t.atLeast('refused', 1, numRuns);
  });

  it('property: a reading figure replaced by anything never decodes to a negative, fractional or unsafe count; else BAD_FIELD', () => {
    const t = caseTally();
    const numRuns = 3000;
    const figure = fc.oneof(anyValue, fc.nat(), fc.constantFrom(-1, 0.5, 2 ** 53, Number.MAX_SAFE_INTEGER, Number.NaN, Infinity, '3'));
    fc.assert(
      fc.property(fc.constantFrom('total', 'mono', 'colour'), figure, (field, value) => {
        const body = reading(field, value);
        let readings: ReturnType<typeof decodeCounterReport>['readings'];
        try {
          ({ readings } = decodeCounterReport(body, NOW));
        } catch {
          refusedAs(() => decodeCounterReport(body, NOW), REFUSAL.BAD_FIELD, `readings[0].${field}`);
          t.refused();
          return;
        }
        for (const n of [readings[0]?.total, readings[0]?.mono, readings[0]?.colour]) {
          if (n !== null && n !== undefined) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
        }
        t.decoded();
      }),
      { numRuns },
    );
    t.atLeast('decoded', 0.1, numRuns);
    t.atLeast('refused', 0.3, numRuns);
  });
});

describe('host readings (HOST-RESOURCES-MIB) in a counter report', () => {
  const host = {
    uptimeSeconds: 120,
    cpuLoadPercent: 12.5,
    processors: 2,
    memoryUsedPercent: 40.1,
    memorySizeBytes: 8 * 2 ** 30,
    disks: [{ index: '31', description: '/', sizeBytes: 1000, usedBytes: 950, usedPercent: 95 }],
    installedSoftware: 700,
    runningProcesses: 250,
    topApplications: [{ name: 'postgres', processes: 9, memoryKBytes: 400_000 }],
    restarts: 3,
  };
  const report = (h: unknown) => ({
    status: 'ok',
    readings: [{ readingId: 'r1', deviceId: 'pc1', readAt: '2026-12-03T09:00:00Z', flags: ['restarted'], host: h }],
  });
  const refusal = (h: unknown) => {
    try {
      decodeCounterReport(report(h), NOW);
    } catch (error) {
      return `${(error as { code: string }).code} ${(error as { field: string }).field}`;
    }
    return 'accepted';
  };

  it('accepts a host reading and keeps it', () => {
    expect(decodeCounterReport(report(host), NOW).readings[0]?.host).toEqual(host);
  });

  it('refuses a bad figure, a hostile name, an oversized list, naming the field', () => {
    expect(refusal({ ...host, cpuLoadPercent: 101 })).toBe('BAD_FIELD readings[0].host.cpuLoadPercent');
    expect(refusal({ ...host, restarts: -1 })).toBe('BAD_FIELD readings[0].host.restarts');
    expect(refusal({ ...host, topApplications: [{ name: 'evil\u001b[2J', processes: 1, memoryKBytes: 1 }] })).toBe(
      'BAD_FIELD readings[0].host.topApplications[0].name',
    );
    expect(refusal({ ...host, disks: [{ ...host.disks[0], description: '\u202e/' }] })).toBe(
      'BAD_FIELD readings[0].host.disks[0].description',
    );
    expect(refusal({ ...host, disks: Array.from({ length: 65 }, () => host.disks[0]) })).toBe('BAD_FIELD readings[0].host.disks');
    expect(refusal({ ...host, disks: 'all' })).toBe('MALFORMED readings[0].host.disks');
  });

  /** The one refusal (code and field) a host reading with FIELD set to VALUE must give, or null when it decodes. */
  function hostFieldRefusal(field: string, value: unknown): string | null {
    const at = `readings[0].host.${field}`;
    if (value === undefined || value === null) return null;
    if (field === 'disks' || field === 'topApplications') {
      // a list of rows; the generator's lists hold numbers, which are no row objects: the first entry is named
      if (!Array.isArray(value)) return `${REFUSAL.MALFORMED} ${at}`;
      return value.length === 0 ? null : `${REFUSAL.MALFORMED} ${at}[0]`;
    }
    const ok =
      field === 'cpuLoadPercent' || field === 'memoryUsedPercent'
        ? typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100
        : typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
    return ok ? null : `${REFUSAL.BAD_FIELD} ${at}`;
  }

  it('property: a host reading with any field replaced gives its one refusal, naming the field, or keeps counts and percentages in range', () => {
    const t = caseTally();
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(host)), anyValue, (field, value) => {
        const expected = hostFieldRefusal(field, value);
        if (expected !== null) {
          expect(refusal({ ...host, [field]: value })).toBe(expected);
          t.refused();
          return;
        }
        const h = decodeCounterReport(report({ ...host, [field]: value }), NOW).readings[0]?.host;
        for (const k of ['restarts', 'processors', 'uptimeSeconds'] as const) {
          const n = h?.[k];
          if (n !== null && n !== undefined) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
        }
        for (const p of [h?.cpuLoadPercent, h?.memoryUsedPercent]) if (p !== null && p !== undefined) expect(p >= 0 && p <= 100).toBe(true);
        t.decoded();
      }),
      { numRuns: 2000 },
    );
    t.atLeast('decoded', 0.05, 2000);
    t.atLeast('refused', 0.25, 2000);
  });
});
