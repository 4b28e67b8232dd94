import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../testing.js';
import { boundLogTail, LOG_TAIL_MAX_BYTES, LOG_TAIL_MAX_LINES, lastLogLine } from './log-tail.js';

describe('boundLogTail', () => {
  it('keeps a short log as it is, without its trailing newlines', () => {
    expect(boundLogTail('a\nb\n\n')).toEqual({ text: 'a\nb', truncated: false });
  });

  it('keeps the last 40 lines of a longer one', () => {
    const log = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const { text, truncated } = boundLogTail(log);
    expect(truncated).toBe(true);
    expect(text.split('\n')).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 60}`));
  });

  it('cuts one huge line to 4 KiB from its end, never splitting a character', () => {
    const { text, truncated } = boundLogTail(`${'é'.repeat(5000)}END`);
    expect(truncated).toBe(true);
    expect(text.endsWith('END')).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(LOG_TAIL_MAX_BYTES);
    expect(text).toBe(`${'é'.repeat(2046)}END`); // 2046 × 2 + 3 = 4095 bytes: one more é would not fit
  });

  it('property: within both limits, a suffix of the input, and untouched when it already fits', () => {
    // short logs that fit, and logs over the line or the byte limit (40 lines, 4 KiB)
    const logLines = fc.oneof(
      fc.array(fc.string({ unit: 'grapheme', maxLength: 300 }), { maxLength: 80 }),
      fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }), { minLength: 30, maxLength: 60 }),
      fc.array(fc.string({ unit: 'grapheme', minLength: 100, maxLength: 400 }), { minLength: 5, maxLength: 30 }),
    );
    const t = caseTally<'whole' | 'truncated'>();
    const numRuns = 300;
    fc.assert(
      fc.property(logLines, (lines) => {
        const input = lines.join('\n');
        const { text, truncated } = boundLogTail(input);
        expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(LOG_TAIL_MAX_BYTES);
        expect(text.split('\n').length).toBeLessThanOrEqual(LOG_TAIL_MAX_LINES);
        const trimmed = input.replace(/\n+$/, '');
        expect(trimmed.endsWith(text)).toBe(true);
        if (Buffer.byteLength(trimmed) <= LOG_TAIL_MAX_BYTES && trimmed.split('\n').length <= LOG_TAIL_MAX_LINES) {
          expect({ text, truncated }).toEqual({ text: trimmed, truncated: false });
          t.count('whole');
        } else {
          expect(truncated).toBe(true);
          t.count('truncated');
        }
        // never a lone surrogate at the cut
        expect(text).toBe(Buffer.from(text, 'utf8').toString('utf8'));
      }),
      { seed: 1010, numRuns },
    );
    t.atLeast('whole', 0.1, numRuns);
    t.atLeast('truncated', 0.1, numRuns);
  });
});

describe('lastLogLine', () => {
  it('is the last non-blank line, or null', () => {
    expect(lastLogLine('a\nb\n  \n')).toBe('b');
    expect(lastLogLine('')).toBeNull();
    expect(lastLogLine(null)).toBeNull();
  });
});
