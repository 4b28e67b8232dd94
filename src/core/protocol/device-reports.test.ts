import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRdsError, REFUSAL } from '../errors.js';
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

  it('property: a fault with any field replaced is refused with MALFORMED or BAD_FIELD, or decoded to plain text', () => {
    let decoded = 0;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(good)), anyValue, (field, value) => {
        const body = { reports: [{ ...good, [field]: value }] };
        try {
          const [f] = decodeFaultReport(body, NOW).reports;
          for (const v of [f?.eventId, f?.deviceId, f?.code, f?.subunit, f?.severity, f?.source ?? ''])
            expect(isPlainText(v ?? '')).toBe(true);
          expect(Number.isNaN(Date.parse(f?.raisedAt ?? ''))).toBe(false);
          decoded++;
        } catch (error) {
          expect(isRdsError(error)).toBe(true);
          expect([REFUSAL.MALFORMED, REFUSAL.BAD_FIELD]).toContain((error as { code: string }).code);
        }
      }),
      { numRuns: 3000 },
    );
    expect(decoded).toBeGreaterThan(0);
  });

  it('property: a reading with any figure replaced never decodes to a negative, fractional or unsafe count', () => {
    let decoded = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('total', 'mono', 'colour', 'readAt', 'serial', 'deviceId', 'byService', 'supplies'),
        anyValue,
        (field, value) => {
          const body = { status: 'ok', readings: [{ readingId: 'r1', deviceId: 'mfp-1', readAt: '2026-12-03T09:00:00Z', [field]: value }] };
          try {
            const { readings } = decodeCounterReport(body, NOW);
            for (const n of [readings[0]?.total, readings[0]?.mono, readings[0]?.colour]) {
              if (n !== null && n !== undefined) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
            }
            decoded++;
          } catch (error) {
            expect(isRdsError(error)).toBe(true);
            expect([REFUSAL.MALFORMED, REFUSAL.BAD_FIELD]).toContain((error as { code: string }).code);
          }
        },
      ),
      { numRuns: 3000 },
    );
    expect(decoded).toBeGreaterThan(0);
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

  it('property: a host reading with any field replaced is refused (MALFORMED or BAD_FIELD) or keeps counts and percentages in range', () => {
    let decoded = 0;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(host)), anyValue, (field, value) => {
        try {
          const h = decodeCounterReport(report({ ...host, [field]: value }), NOW).readings[0]?.host;
          for (const k of ['restarts', 'processors', 'uptimeSeconds'] as const) {
            const n = h?.[k];
            if (n !== null && n !== undefined) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
          }
          for (const p of [h?.cpuLoadPercent, h?.memoryUsedPercent])
            if (p !== null && p !== undefined) expect(p >= 0 && p <= 100).toBe(true);
          decoded++;
        } catch (error) {
          expect([REFUSAL.MALFORMED, REFUSAL.BAD_FIELD]).toContain((error as { code: string }).code);
        }
      }),
      { numRuns: 2000 },
    );
    expect(decoded).toBeGreaterThan(100);
  });
});
