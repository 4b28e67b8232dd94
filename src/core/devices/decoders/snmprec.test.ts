import { describe, expect, it } from 'vitest';
import { fixtureWalk } from '../testing.js';
import { formatSnmprec, parseSnmprec } from './snmprec.js';

describe('.snmprec loader', () => {
  it('reads every tag, hex values and comments', () => {
    const walk = parseSnmprec(
      [
        '# a comment',
        '.1.3.6.1.2.1.1.1.0|4|Printer é',
        '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.2385',
        '1.3.6.1.2.1.25.3.5.1.2.1|4x|04 00',
        '1.3.6.1.2.1.43.10.2.1.4.1.1|65|121104',
        '1.3.6.1.2.1.1.3.0|67|724425094',
        '1.3.6.1.2.1.4.20.1.1.10|64|10.0.0.1',
        '1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615',
        '1.3.6.1.2.1.43.11.1.1.9.1.1|2|-3',
        '',
      ].join('\n'),
    );
    expect(walk.get('1.3.6.1.2.1.1.1.0')).toEqual({ type: 4, value: Buffer.from('Printer é') });
    expect(walk.get('1.3.6.1.2.1.1.2.0')).toEqual({ type: 6, value: '1.3.6.1.4.1.2385' });
    expect(walk.get('1.3.6.1.2.1.25.3.5.1.2.1')).toEqual({ type: 4, value: Buffer.from([4, 0]) });
    expect(walk.get('1.3.6.1.2.1.31.1.1.1.6.1')).toEqual({ type: 70, value: 2n ** 64n - 1n });
    expect(walk.get('1.3.6.1.2.1.43.11.1.1.9.1.1')).toEqual({ type: 2, value: -3 });
    expect(walk.size).toBe(8);
  });

  it('names the line of a malformed record', () => {
    expect(() => parseSnmprec('1.3.6.1|2|1\nnonsense')).toThrow(/snmprec:2: expected OID\|TAG\|VALUE/);
    expect(() => parseSnmprec('1.3.6.1|2|abc')).toThrow(/snmprec:1: tag 2 needs an integer/);
    expect(() => parseSnmprec('1.3.6.1|4x|abc')).toThrow(/even number of hex digits/);
    expect(() => parseSnmprec('1.3.6.1|99|x')).toThrow(/known tag/);
  });

  it('loads the real walks and round-trips them', () => {
    for (const name of ['sharp-mx3570n', 'brother-mfc-l2710dw', 'pwg-counter-handwritten']) {
      const walk = fixtureWalk(name);
      expect(parseSnmprec(formatSnmprec(walk))).toEqual(walk);
    }
    expect(fixtureWalk('sharp-mx3570n').size).toBe(173);
  });
});
