import fc from 'fast-check';
import stringWidth from 'string-width';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caseTally } from '../testing.js';
import { displayWidth, formatDay, formatTable, formatTime, formatTimeZoned, timeColumn, timeZoneName } from './table.js';

const savedTz = process.env.TZ;
function setTz(tz: string | undefined): void {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
}
beforeEach(() => setTz('UTC'));
afterEach(() => setTz(savedTz));

/** The display column where each cell starts, found by the separators between the cells of known text. */
function starts(line: string, cells: string[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const cell of cells) {
    const i = line.indexOf(cell, at);
    expect(i, `${cell} in ${line}`).toBeGreaterThanOrEqual(0);
    out.push(displayWidth(line.slice(0, i)));
    at = i + cell.length;
  }
  return out;
}

describe('displayWidth', () => {
  it('counts East Asian wide characters twice: the original screen’s customer notes', () => {
    expect(displayWidth('aaa商事株式会社')).toBe(15);
    expect(displayWidth('kkk通信(1F)')).toBe(11);
    expect(displayWidth('한국어')).toBe(6);
    // halfwidth katakana stay narrow
    expect(displayWidth('ｶﾀｶﾅ')).toBe(4);
    expect(displayWidth('aaa商事株式会社')).toBe(stringWidth('aaa商事株式会社'));
  });

  it('adds nothing for combining marks, on a narrow or a wide base', () => {
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('Cafe\u0301 Zu\u0308rich')).toBe(11);
    // combining voiced sound mark: か + ゙ is one wide cell
    expect(displayWidth('か\u3099')).toBe(2);
    // a combining enclosing mark outside the U+0300 block
    expect(displayWidth('1\u20dd')).toBe(1);
  });

  it('counts an emoji as two, ZWJ sequences, flags, keycaps and VS16 included', () => {
    expect(displayWidth('👩‍💻')).toBe(2);
    expect(displayWidth('👨‍👩‍👧‍👦')).toBe(2);
    expect(displayWidth('🇯🇵')).toBe(2);
    expect(displayWidth('1️⃣')).toBe(2);
    expect(displayWidth('🖨️ room')).toBe(7);
    expect(displayWidth('☕')).toBe(2);
  });

  it('counts zero-width characters as nothing', () => {
    expect(displayWidth('a\u200bb')).toBe(2);
    expect(displayWidth('a\u200db')).toBe(2);
    expect(displayWidth('\ufeffx')).toBe(1);
    expect(displayWidth('x\u2060y')).toBe(2);
    expect(displayWidth('')).toBe(0);
  });
});

describe('formatTable', () => {
  it('keeps ASCII tables byte for byte as before: three spaces apart, no trailing blanks', () => {
    expect(
      formatTable(
        ['ID', 'Name', 'Note'],
        [
          ['1', 'alpha', ''],
          ['22', 'b', 'x'],
        ],
      ),
    ).toBe(['ID   Name    Note', '1    alpha', '22   b       x'].join('\n'));
  });

  it('lines up every column after wide, combining, emoji and zero-width text', () => {
    const notes = ['aaa商事株式会社', 'kkk通信(1F)', '🖨️ 2F 👩‍💻', 'Cafe\u0301', 'a\u200bb', 'plain'];
    const text = formatTable(
      ['Agent', 'Note', 'Version'],
      notes.map((n, i) => [`A${i}`, n, `1.0.0${i}`]),
    );
    const lines = text.split('\n');
    const columns = lines.slice(1).map((line, i) => starts(line, [`A${i}`, notes[i] as string, `1.0.0${i}`]));
    const header = starts(lines[0] as string, ['Agent', 'Note', 'Version']);
    for (const c of columns) expect(c).toEqual(header);
    expect(header[2]).toBe('Agent'.length + 3 + 15 + 3);
  });

  it('measures the neutralised text that is printed: a tab or an ESC is shown escaped, and padded as such', () => {
    const text = formatTable(
      ['Note', 'Next'],
      [
        ['a\tb', 'x'],
        ['\x1b[31mred', 'y'],
        ['short', 'z'],
      ],
    );
    const lines = text.split('\n');
    expect(lines[1]).toBe(`a\\x09b${' '.repeat(8)}x`);
    expect(lines[2]).toBe('\\x1b[31mred   y');
    expect(lines[3]).toBe(`short${' '.repeat(9)}z`);
    expect(text).not.toMatch(/[\t\x1b]/);
  });

  it('prints ASCII exactly as the code-point padding did (property)', () => {
    const old = (headers: string[], rows: string[][]) => {
      const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      const line = (cells: string[]) =>
        cells
          .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] as number) - c.length)))
          .join('   ')
          .trimEnd();
      return [line(headers), ...rows.map(line)].join('\n');
    };
    const ascii = fc.string({ unit: fc.constantFrom(...' abcXYZ019-_.@%'.split('')), maxLength: 12 });
    const t = caseTally();
    const numRuns = 100;
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5 })
          .chain((n) =>
            fc.tuple(
              fc.array(ascii, { minLength: n, maxLength: n }),
              fc.array(fc.array(ascii, { minLength: n, maxLength: n }), { maxLength: 6 }),
            ),
          ),
        ([headers, rows]) => {
          expect(formatTable(headers, rows)).toBe(old(headers, rows));
          t.decoded();
        },
      ),
      { numRuns },
    );
    t.atLeast('decoded', 1, numRuns);
  });
});

describe('times in tables', () => {
  const at = '2026-11-22T20:11:42.123Z';

  it('TZ=UTC: as before, and the first time column names the zone once', () => {
    expect(timeZoneName()).toBe('UTC');
    expect(formatTime(at)).toBe('2026-11-22 20:11');
    const text = formatTable(['ID', timeColumn('Raised'), timeColumn('Cleared')], [['1', at, null]]);
    expect(text.split('\n')).toEqual(['ID   Raised (UTC)       Cleared', '1    2026-11-22 20:11   -']);
  });

  it('TZ=Asia/Tokyo: the same instant nine hours later, across midnight, and the header says the zone', () => {
    setTz('Asia/Tokyo');
    expect(timeZoneName()).toBe('Asia/Tokyo');
    expect(formatTime(at)).toBe('2026-11-23 05:11');
    expect(formatTime(new Date(at))).toBe('2026-11-23 05:11');
    expect(formatDay(at)).toBe('2026-11-23');
    expect(formatTimeZoned(at)).toBe('2026-11-23 05:11 (Asia/Tokyo)');
    const text = formatTable([timeColumn('At'), 'Note'], [[at, 'kkk通信(1F)']]);
    expect(text.split('\n')).toEqual(['At (Asia/Tokyo)    Note', '2026-11-23 05:11   kkk通信(1F)']);
  });

  it('honours a zone with daylight saving time (Europe/Berlin: +01:00 in winter, +02:00 in summer)', () => {
    setTz('Europe/Berlin');
    expect(formatTime('2026-01-15T12:00:00Z')).toBe('2026-01-15 13:00');
    expect(formatTime('2026-07-15T12:00:00Z')).toBe('2026-07-15 14:00');
    expect(formatTable([timeColumn('Created')], [])).toBe('Created (Europe/Berlin)');
  });

  it('an unknown TZ falls back to UTC, named so', () => {
    setTz('Nowhere/Atlantis');
    expect(timeZoneName()).toBe('UTC');
    expect(formatTime(at)).toBe('2026-11-22 20:11');
  });

  it('a missing time is "-" or the column’s word; a damaged one is shown marked, escaped', () => {
    const text = formatTable(
      [timeColumn('Last heard', { none: 'never' }), 'X'],
      [
        [null, 'a'],
        [undefined, 'b'],
        ['', 'c'],
        ['not\x1ba time', 'd'],
      ],
    );
    expect(text.split('\n').map((l) => l.split(/\s{3,}/)[0])).toEqual([
      'Last heard (UTC)',
      'never',
      'never',
      'never',
      'unreadable: not\\x1ba time',
    ]);
    expect(formatTime(null)).toBe('-');
    expect(formatTime(new Date(Number.NaN))).toMatch(/^unreadable: /);
  });
});
