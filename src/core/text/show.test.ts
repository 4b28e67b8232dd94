import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { showText } from './show.js';

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

/** Undo showText: `\\` → `\`, `\xNN` / `\uNNNN` → the character. */
function unshow(s: string): string {
  return s.replace(/\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4})/g, (_m, e: string) =>
    e === '\\' ? '\\' : String.fromCharCode(Number.parseInt(e.slice(1), 16)),
  );
}

describe('showText', () => {
  it('escapes C0, DEL, C1 as \\xNN, bidi controls as \\uNNNN, doubles backslashes', () => {
    expect(showText('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(showText('tab\tnl\ncr\r')).toBe('tab\\x09nl\\x0acr\\x0d');
    expect(showText('\x7f\x85\x9b')).toBe('\\x7f\\x85\\x9b');
    expect(showText('x\u202ey\u2066z\u200e\u200f\u061c')).toBe('x\\u202ey\\u2066z\\u200e\\u200f\\u061c');
    expect(showText('C:\\x1b')).toBe('C:\\\\x1b');
    expect(showText('1.0.02-0 Ärger ✗ 日本')).toBe('1.0.02-0 Ärger ✗ 日本');
  });

  it('property: the output holds no unsafe character and decodes back to the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const shown = showText(s);
        expect(UNSAFE.test(shown)).toBe(false);
        expect(unshow(shown)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});
