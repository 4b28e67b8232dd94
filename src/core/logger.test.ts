import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('logger lines', () => {
  it('start with the ISO time when timestamps are on (cron mail, log files)', () => {
    const lines: string[] = [];
    const at = new Date('2026-12-02T21:00:00.250Z');
    createLogger('info', (l) => lines.push(l), { timestamps: true, now: () => at }).warn('mail refused', { code: 535 });
    expect(lines).toEqual(['2026-12-02T21:00:00.250Z warn: mail refused code=535\n']);
  });

  it('carry no time of their own for the journal, which stamps every line itself', () => {
    const lines: string[] = [];
    createLogger('info', (l) => lines.push(l), { timestamps: false }).info('sent', { mails: 2 });
    expect(lines).toEqual(['info: sent mails=2\n']);
  });

  it('stay one line whatever the message (property)', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(8.64e15) }), fc.string(), (at, value) => {
        const lines: string[] = [];
        createLogger('info', (l) => lines.push(l), { timestamps: true, now: () => at }).info('x', { value });
        expect(lines).toHaveLength(1);
        expect(lines[0]?.startsWith(`${at.toISOString()} info: x value=`)).toBe(true);
        expect(lines[0]?.slice(0, -1)).not.toMatch(/[\n\r]/);
      }),
    );
  });
});
