import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../errors.js';
import { caseTally } from '../testing.js';
import { compareVersions } from './version.js';
import { formatVersionText, parseVersionText, type VersionReport } from './version-text.js';

const ORIGINAL = [
  'Software Version    1.0.00-1',
  'ROM Version         1.5.08',
  '---Modules---',
  'abcd.exe            1.0.00    2002/01/01',
  'bbb.lib             1.3.05    2002/11/29',
  'main.cgi            1.0.00    2002/01/01',
  'refresh             1.0.00    2002/01/01',
  'agent_sweeprr       2.0.00    2002/08/07',
  'time_shell.sh       1.1.01    2002/11/22',
].join('\n');

describe('parseVersionText', () => {
  it('reads the printed form of the original system (runs of spaces)', () => {
    const report = parseVersionText(ORIGINAL);
    expect(report.softwareVersion).toBe('1.0.00-1');
    expect(report.romVersion).toBe('1.5.08');
    expect(report.modules).toHaveLength(6);
    expect(report.modules[1]).toEqual({ name: 'bbb.lib', version: '1.3.05', date: '2002/11/29' });
  });

  it('reads tabs, CRLF and trailing blank lines alike', () => {
    const text = 'Software Version\t1.0.02-0\r\n---Modules---\r\nabcd.exe\t\t1.0.00\t2002/01/01\r\n\r\n';
    expect(parseVersionText(text)).toEqual({
      softwareVersion: '1.0.02-0',
      modules: [{ name: 'abcd.exe', version: '1.0.00', date: '2002/01/01' }],
    });
  });

  it.each([
    ['', 1, 'empty'],
    ['Software Versoin\t1.0.00', 1, "expected 'Software Version"],
    ['Software Version\t1.0', 1, 'is not a version'],
    ['Software Version\t1.0.00\textra', 1, 'exactly'],
    ['Software Version\t1.0.00', 2, "expected '---Modules---'"],
    ['Software Version\t1.0.00\nROM Version\tx\n---Modules---', 2, 'is not a version'],
    ['Software Version\t1.0.00\n---Modules---\nabc 1.0.00 2002/01/01', 3, 'expected a module line'],
    ['Software Version\t1.0.00\n---Modules---\nabc\t1.0.00\t2002-01-01', 3, 'is not a date'],
    ['Software Version\t1.0.00\n---Modules---\nabc\t1.0.00\t2002/13/01', 3, 'is not a date'],
    ['Software Version\t1.0.00\n---Modules---\nabc\tv1\t2002/01/01', 3, 'not a module version'],
    ['Software Version\t1.0.00\n---Modules---\na\t1.0.00\t2002/01/01\na\t1.0.01\t2002/01/01', 4, 'twice'],
    ['Software Version\t1.0.00\n---Modules---\n\na\t1.0.00\t2002/01/01', 3, 'expected a module line'],
  ])('refuses %j naming line %i', (text, line, message) => {
    let caught: unknown;
    try {
      parseVersionText(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ParseError);
    expect((caught as ParseError).message).toContain(message);
    expect((caught as ParseError).line).toBe(line);
  });
});

const versionArb = fc
  .tuple(fc.nat(99), fc.nat(99), fc.nat(999), fc.constantFrom('', '-0', '-1', '-12', 'beta', '-rc2', '.1'))
  .map(([a, b, c, free]) => `${a}.${b}.${String(c).padStart(2, '0')}${free}`);
const nameArb = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}( [A-Za-z0-9_.-]{1,8})?$/);
const dateArb = fc
  .tuple(fc.integer({ min: 1990, max: 2099 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
  .map(([y, m, d]) => `${y}/${String(m).padStart(2, '0')}/${String(d).padStart(2, '0')}`);
const reportArb: fc.Arbitrary<VersionReport> = fc
  .record({
    softwareVersion: versionArb,
    romVersion: fc.option(versionArb, { nil: undefined }),
    modules: fc.uniqueArray(fc.record({ name: nameArb, version: versionArb, date: dateArb }), {
      selector: (m) => m.name,
      maxLength: 8,
    }),
  })
  .map((r) => (r.romVersion === undefined ? { softwareVersion: r.softwareVersion, modules: r.modules } : r));

describe('version text properties', () => {
  it('parse∘format is the identity on reports', () => {
    fc.assert(
      fc.property(reportArb, (report) => {
        expect(parseVersionText(formatVersionText(report))).toEqual(report);
      }),
    );
  });

  it('format∘parse is the identity on canonical text', () => {
    fc.assert(
      fc.property(reportArb, (report) => {
        const text = formatVersionText(report);
        expect(formatVersionText(parseVersionText(text))).toBe(text);
      }),
    );
  });

  it('any run of two or more spaces is read like a tab', () => {
    fc.assert(
      fc.property(reportArb, fc.integer({ min: 2, max: 6 }), (report, n) => {
        const spaced = formatVersionText(report).replace(/\t/g, ' '.repeat(n));
        expect(parseVersionText(spaced)).toEqual(report);
      }),
    );
  });

  it('never throws anything but a ParseError on arbitrary text', () => {
    const t = caseTally();
    const numRuns = 2000;
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          parseVersionText(text);
          t.decoded();
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
          t.refused();
        }
      }),
      { numRuns },
    );
    // the refusals are what this checks (test/hostile/fuzz.test.ts reaches the success path)
    t.atLeast('refused', 0.9, numRuns);
  });
});

describe('compareVersions', () => {
  it('orders the seed examples', () => {
    const seed = ['1.0.02-1', '1.0.00-1', '1.0.02-0', '1.0.01-1'];
    expect([...seed].sort(compareVersions)).toEqual(['1.0.00-1', '1.0.01-1', '1.0.02-0', '1.0.02-1']);
  });

  it('orders numerically, not as text', () => {
    expect(compareVersions('1.0.10', '1.0.9')).toBe(1);
    expect(compareVersions('1.0.02-10', '1.0.02-9')).toBe(1);
    expect(compareVersions('2.0.00', '10.0.00')).toBe(-1);
    expect(compareVersions('1.0.02', '1.0.02-0')).toBe(-1);
  });

  it('is a total order: antisymmetric, transitive, equal only for equal text', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
        expect(Math.sign(compareVersions(a, b))).toBe(-Math.sign(compareVersions(b, a)));
        expect(compareVersions(a, b) === 0).toBe(a === b);
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 3000 },
    );
  });
});
