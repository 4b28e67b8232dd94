import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import {
  DEFAULT_BUDGET,
  decidePass,
  FINAL_STATES,
  type PassAgent,
  type PassInput,
  parseBudget,
  parseRate,
  parseRetries,
  parseTimeout,
  parseWaves,
  planWaves,
  resolveBudget,
  type Share,
  stateOfResult,
  waveCount,
} from './rollout-plan.js';

const RUNS = 300;
const ids = (n: number) => Array.from({ length: n }, (_, i) => `A${String(i + 1).padStart(4, '0')}`);

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('parseWaves', () => {
  it('counts and percents, cumulative, the last 100%', () => {
    expect(parseWaves('1,10%,50%,100%')).toEqual([{ count: 1 }, { percent: 10 }, { percent: 50 }, { percent: 100 }]);
    expect(parseWaves('100%')).toEqual([{ percent: 100 }]);
    expect(parseWaves(' 2 , 12.5% ,100%')).toEqual([{ count: 2 }, { percent: 12.5 }, { percent: 100 }]);
  });

  it.each([
    ['10%,50%', 'BAD_WAVES', 'the last wave must be 100%'],
    ['1,2', 'BAD_WAVES', 'the last wave must be 100%'],
    ['0,100%', 'BAD_WAVES', "'0' is not a count"],
    ['1,,100%', 'BAD_WAVES', "'' is not a count"],
    ['1,0%,100%', 'BAD_WAVES', "'0%' is not a count"],
    ['101%', 'BAD_WAVES', "'101%' is not a count"],
    ['-1,100%', 'BAD_WAVES', "'-1' is not a count"],
  ])('%j: one usage error naming --waves and the value', (text, code, message) => {
    const e = usage(() => parseWaves(text));
    expect(e.code).toBe(code);
    expect(e.message).toContain(`--waves '${text}'`);
    expect(e.message).toContain(message);
  });
});

describe('budgets, rate, timeout, retries', () => {
  it('a budget is a count or a percent of the agents, rounded down', () => {
    expect(parseBudget('2', '--max-failures')).toBe('2');
    expect(parseBudget('10%', '--max-failures')).toBe('10%');
    expect(resolveBudget('10%', 15)).toBe(1);
    expect(resolveBudget('10%', 9)).toBe(0);
    expect(resolveBudget('10%', 10)).toBe(1);
    expect(resolveBudget('100%', 7)).toBe(7);
    expect(resolveBudget('3', 7)).toBe(3);
    expect(usage(() => parseBudget('x', '--max-timeouts')).message).toBe(
      "--max-timeouts 'x' is not a count (0, 1, …) or a percent (0% … 100%)",
    );
    expect(usage(() => parseBudget('101%', '--max-failures')).code).toBe('BAD_BUDGET');
  });

  it('property: a percent budget is the largest count not over P% of the agents', () => {
    let checked = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 5000 }), (p, n) => {
        const b = resolveBudget(`${p}%`, n);
        expect(b * 100).toBeLessThanOrEqual(p * n);
        expect((b + 1) * 100).toBeGreaterThan(p * n);
        checked++;
      }),
      { numRuns: RUNS },
    );
    expect(checked).toBe(RUNS);
  });

  it('rate N/m, N/h; timeout a duration; retries 0 … 100', () => {
    expect(parseRate('30/m')).toEqual({ count: 30, windowMs: 60_000 });
    expect(parseRate('500/h')).toEqual({ count: 500, windowMs: 3_600_000 });
    for (const bad of ['5/s', '0/m', 'm', '5', '1.5/h']) expect(usage(() => parseRate(bad)).code).toBe('BAD_RATE');
    expect(parseTimeout('90s')).toBe(90_000);
    expect(usage(() => parseTimeout('0s')).message).toContain("--timeout '0s'");
    expect(usage(() => parseTimeout('soon')).code).toBe('BAD_DURATION');
    expect(parseRetries('0')).toBe(0);
    expect(parseRetries('3')).toBe(3);
    for (const bad of ['-1', 'x', '101', '1.5']) expect(usage(() => parseRetries(bad)).code).toBe('BAD_RETRIES');
  });
});

describe('planWaves', () => {
  it('1,30%,100% of 10: 1, 2, 7 in registry order', () => {
    const plan = planWaves(ids(10), parseWaves('1,30%,100%'));
    expect(plan.map((p) => p.wave)).toEqual([1, 2, 2, 3, 3, 3, 3, 3, 3, 3]);
    expect(plan.map((p) => p.agentId)).toEqual(ids(10));
    expect(plan.map((p) => p.position)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('--canary agents make up wave 1, then the rest in registry order; empty waves are dropped', () => {
    const plan = planWaves(ids(10), parseWaves('50%,100%'), ['A0005', 'A0009']);
    expect(plan.map((p) => [p.agentId, p.wave])).toEqual([
      ['A0005', 1],
      ['A0009', 1],
      ['A0001', 2],
      ['A0002', 2],
      ['A0003', 2],
      ['A0004', 3],
      ['A0006', 3],
      ['A0007', 3],
      ['A0008', 3],
      ['A0010', 3],
    ]);
    expect(waveCount(planWaves(ids(5), parseWaves('1,10%,100%')))).toBe(2);
  });

  it('refuses a canary not selected and shares that shrink', () => {
    expect(usage(() => planWaves(ids(3), parseWaves('100%'), ['B1'])).message).toBe("--canary 'B1' is not among the selected agents");
    expect(usage(() => planWaves(ids(10), parseWaves('50%,2,100%'))).code).toBe('BAD_WAVES');
  });

  const shares = fc
    .array(
      fc.oneof(
        fc.integer({ min: 1, max: 60 }).map((count): Share => ({ count })),
        fc.integer({ min: 1, max: 99 }).map((percent): Share => ({ percent })),
      ),
      {
        maxLength: 5,
      },
    )
    .map((s) => [...s, { percent: 100 } as Share]);

  it('property: every agent in exactly one wave, waves 1..k all non-empty, canary first, cumulative cuts respected', () => {
    let planned = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), shares, fc.integer({ min: 0, max: 3 }), (n, s, canaries) => {
        const agents = ids(n);
        const canary = agents.slice(n - Math.min(canaries, n));
        let plan: ReturnType<typeof planWaves>;
        try {
          plan = planWaves(agents, s, canary);
        } catch (error) {
          // only shrinking shares are refused
          expect((error as UsageError).code).toBe('BAD_WAVES');
          return;
        }
        planned++;
        expect(plan.map((p) => p.agentId).sort()).toEqual([...agents].sort());
        const waves = waveCount(plan);
        for (let w = 1; w <= waves; w++) expect(plan.some((p) => p.wave === w)).toBe(true);
        for (let i = 1; i < plan.length; i++)
          expect((plan[i] as { wave: number }).wave).toBeGreaterThanOrEqual((plan[i - 1] as { wave: number }).wave);
        expect(plan.slice(0, canary.length).map((p) => p.agentId)).toEqual(canary);
        if (canary.length > 0) expect(plan.filter((p) => p.wave === 1).map((p) => p.agentId)).toEqual(canary);
        // each share's cut falls on a wave boundary
        for (const share of s) {
          const cut = Math.min(n, 'count' in share ? share.count : Math.ceil((share.percent * n) / 100));
          if (cut <= canary.length || cut >= n) continue;
          expect((plan[cut] as { wave: number }).wave).toBeGreaterThan((plan[cut - 1] as { wave: number }).wave);
        }
      }),
      { numRuns: RUNS },
    );
    expect(planned).toBeGreaterThan(RUNS / 2);
  });
});

describe('decidePass', () => {
  const base = (agents: PassAgent[], over: Partial<PassInput> = {}): PassInput => ({
    currentWave: 1,
    waves: 2,
    maxFailures: 0,
    maxTimeouts: 0,
    failureBase: 0,
    timeoutBase: 0,
    retries: 1,
    now: 10_000,
    agents,
    ...over,
  });
  const a = (agentId: string, wave: number, state: PassAgent['state'], attempts = 1, deadline: number | null = 20_000): PassAgent => ({
    agentId,
    wave,
    state,
    attempts,
    deadline,
  });

  it('the canary installed: wave 2 opens', () => {
    expect(decidePass(base([a('C', 1, 'installed'), a('B', 2, 'pending', 0, null)]))).toEqual({
      resend: [],
      timeOut: [],
      openWave: 2,
      done: false,
    });
  });

  it('the canary failed: halts with the default budget 0, naming it', () => {
    expect(resolveBudget(DEFAULT_BUDGET, 1000)).toBe(0);
    expect(decidePass(base([a('C', 1, 'failed'), a('B', 2, 'pending', 0, null)]))).toEqual({
      resend: [],
      timeOut: [],
      halt: { budget: 'max-failures', limit: 0, count: 1, agents: ['C'] },
      done: false,
    });
  });

  it('silent past the deadline: re-sent while attempts ≤ retries, then timed out (and the timeout budget halts)', () => {
    expect(decidePass(base([a('S', 1, 'sent', 1, 5_000)])).resend).toEqual(['S']);
    expect(decidePass(base([a('S', 1, 'deferred', 1, 5_000)])).resend).toEqual(['S']);
    const out = decidePass(base([a('S', 1, 'sent', 2, 5_000)]));
    expect(out.timeOut).toEqual(['S']);
    expect(out.halt).toEqual({ budget: 'max-timeouts', limit: 0, count: 1, agents: ['S'] });
    // a deadline not passed, or none (the re-send still queued): wait
    expect(decidePass(base([a('S', 1, 'sent', 1, 20_000), a('Q', 1, 'sent', 2, null)]))).toEqual({ resend: [], timeOut: [], done: false });
  });

  it('a resume accepts what was counted: the baselines come off the counts', () => {
    const agents = [a('F1', 1, 'failed'), a('F2', 1, 'failed'), a('OK', 1, 'installed'), a('P', 2, 'pending', 0, null)];
    expect(decidePass(base(agents, { maxFailures: 1 })).halt?.count).toBe(2);
    expect(decidePass(base(agents, { maxFailures: 1, failureBase: 2 })).openWave).toBe(2);
  });

  it('the last wave all final: done', () => {
    expect(decidePass(base([a('A', 1, 'installed'), a('B', 2, 'skipped')], { currentWave: 2 })).done).toBe(true);
    expect(decidePass(base([a('A', 1, 'installed'), a('B', 2, 'sent')], { currentWave: 2 })).done).toBe(false);
  });

  const states = fc.constantFrom('pending', 'sent', 'deferred', 'installed', 'failed', 'timed-out', 'skipped') as fc.Arbitrary<
    PassAgent['state']
  >;
  const agentArb = fc.record({
    wave: fc.integer({ min: 1, max: 4 }),
    state: states,
    attempts: fc.integer({ min: 0, max: 4 }),
    deadline: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: null }),
  });

  it('property: never opens a wave over an unfinished one or past a budget; re-sends and timeouts only of silent agents', () => {
    let decided = 0;
    fc.assert(
      fc.property(
        fc.array(agentArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        (raw, currentWave, maxFailures, maxTimeouts, retries) => {
          const agents = raw.map((r, i) => ({ ...r, agentId: `A${i}` }));
          const input = base(agents, { currentWave, waves: 4, maxFailures, maxTimeouts, retries });
          const out = decidePass(input);
          decided++;
          const byId = new Map(agents.map((x) => [x.agentId, x]));
          for (const id of [...out.resend, ...out.timeOut]) {
            const x = byId.get(id) as PassAgent;
            expect(['sent', 'deferred']).toContain(x.state);
            expect(x.deadline).not.toBeNull();
            expect(x.deadline as number).toBeLessThanOrEqual(input.now);
          }
          for (const id of out.resend) expect((byId.get(id) as PassAgent).attempts).toBeLessThanOrEqual(retries);
          for (const id of out.timeOut) expect((byId.get(id) as PassAgent).attempts).toBeGreaterThan(retries);
          const timedOut = new Set(out.timeOut);
          const final = (x: PassAgent) => timedOut.has(x.agentId) || FINAL_STATES.has(x.state);
          const failed = agents.filter((x) => x.state === 'failed').length;
          const tOut = agents.filter((x) => x.state === 'timed-out' || timedOut.has(x.agentId)).length;
          expect(out.halt !== undefined).toBe(failed > maxFailures || tOut > maxTimeouts);
          if (out.openWave !== undefined) {
            expect(out.openWave).toBe(currentWave + 1);
            expect(out.halt).toBeUndefined();
            expect(agents.filter((x) => x.wave <= currentWave).every(final)).toBe(true);
          }
          if (out.done) expect(agents.every(final) && currentWave === 4).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
    expect(decided).toBe(RUNS);
  });
});

describe('stateOfResult', () => {
  it.each([
    ['installed', undefined, '1.0.02-0', { state: 'installed', reason: null }],
    ['already-installed', undefined, '1.0.02-0', { state: 'installed', reason: null }],
    ['installed', undefined, '1.0.01-0', { state: 'failed', reason: 'wrong-version' }],
    ['rolled-back', undefined, '1.0.01-0', { state: 'failed', reason: 'rolled-back' }],
    ['rolled-back', 'HEALTH_CHECK_FAILED', '1.0.01-0', { state: 'failed', reason: 'health-check-failed' }],
    ['refused', 'DOWNGRADE', '1.0.01-0', { state: 'failed', reason: 'refused' }],
    ['deferred', undefined, '1.0.01-0', { state: 'deferred', reason: null }],
  ])('%s %s (%s): %j', (outcome, code, version, expected) => {
    expect(stateOfResult(outcome, code, version, '1.0.02-0')).toEqual(expected);
  });
});
