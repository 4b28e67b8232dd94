import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../testing.js';
import { isPlainText, showLines, showText } from './show.js';

// every code point a terminal could act on: C0, DEL, C1, and the bidi controls
const DANGEROUS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('showText: outside text on its way to a terminal', () => {
  it('escapes ESC sequences, CR, C1 and bidi controls visibly', () => {
    expect(showText('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(showText('ok\rFAKE')).toBe('ok\\x0dFAKE');
    expect(showText('\x9b31m')).toBe('\\x9b31m');
    expect(showText('abc\u202eexe.txt')).toBe('abc\\u202eexe.txt');
    expect(showText('\u2066x\u2069')).toBe('\\u2066x\\u2069');
    expect(showText('\x1b]0;title\x07')).toBe('\\x1b]0;title\\x07');
    expect(showText('line\nnext\ttab')).toBe('line\\x0anext\\x09tab');
  });

  it('leaves ordinary text alone: accents, CJK, emoji, spaces', () => {
    for (const s of ['Café Müller', 'トナー残量', '🖨️ 2F', 'MX-2630N  (Sharp)']) expect(showText(s)).toBe(s);
  });

  it('showLines keeps newlines and tabs as layout, escapes the rest', () => {
    expect(showLines('a\tb\nc\x1b[1m')).toBe('a\tb\nc\\x1b[1m');
  });

  it('property: the result holds no dangerous character, is idempotent, and plain text is unchanged', () => {
    const t = caseTally<'plain' | 'escaped'>();
    const numRuns = 2000;
    // any code points (few of which are dangerous: about 3 % of such strings hold one), and
    // text mixing terminal controls, bidi controls and ordinary letters
    const mixed = fc.string({
      unit: fc.oneof(
        fc.constantFrom('\x1b', '\r', '\n', '\t', '\x00', '\x07', '\x7f', '\x85', '\x9b', '\u061c', '\u200f', '\u202e', '\u2066'),
        fc.constantFrom('a', 'Z', '[', '2', 'J', ';', ' ', 'é', 'ト', '🖨'),
      ),
      maxLength: 40,
    });
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), mixed);
    fc.assert(
      fc.property(text, (s) => {
        const shown = showText(s);
        expect(DANGEROUS.test(shown)).toBe(false);
        expect(showText(shown)).toBe(shown);
        expect(isPlainText(shown)).toBe(true);
        if (!DANGEROUS.test(s)) {
          expect(shown).toBe(s);
          t.count('plain');
        } else t.count('escaped');
        const lines = showLines(s);
        expect(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(lines)).toBe(false);
      }),
      { numRuns },
    );
    t.atLeast('escaped', 0.2, numRuns);
    t.atLeast('plain', 0.2, numRuns);
  }, 30_000);

  it('isPlainText tells ids and names with controls apart', () => {
    expect(isPlainText('abcd.exe')).toBe(true);
    expect(isPlainText('abcd\u202eexe')).toBe(false);
    expect(isPlainText('x\x00')).toBe(false);
  });
});
