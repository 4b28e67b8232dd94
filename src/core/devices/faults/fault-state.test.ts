import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseTally } from '../../testing.js';
import type { FaultCode, ObservedFault } from '../types.js';
import { type DeviceFaultState, faultKey, type PollOutcome, stepFaultState } from './fault-state.js';
import { FAULT_SEVERITY } from './faults.js';

const fault = (code: FaultCode, subunit = ''): ObservedFault => ({ code, subunit, severity: FAULT_SEVERITY[code], source: 'test' });
const ok = (...faults: ObservedFault[]): PollOutcome => ({ ok: true, faults });
const failed: PollOutcome = { ok: false, error: 'timeout' };
const initial: DeviceFaultState = { open: [], consecutiveFailures: 0 };

function run(outcomes: PollOutcome[], state = initial) {
  const steps = [];
  for (const outcome of outcomes) {
    const step = stepFaultState(state, outcome);
    steps.push(step);
    state = step.state;
  }
  return { steps, state, kinds: steps.map((s) => s.transitions.map((t) => `${t.kind}:${'fault' in t ? t.fault.code : t.code}`)) };
}

describe('fault state machine', () => {
  it('raises once, only updates while seen, clears after two clean polls', () => {
    const jam = fault('jam', 'tray 2');
    const { kinds, state } = run([ok(jam), ok(jam), ok(), ok(jam), ok(), ok()]);
    expect(kinds).toEqual([['raised:jam'], ['seen:jam'], ['missed:jam'], ['seen:jam'], ['missed:jam'], ['cleared:jam']]);
    expect(state.open).toEqual([]);
  });

  it('a failed poll neither clears nor counts as clean', () => {
    const jam = fault('jam');
    const { kinds } = run([ok(jam), ok(), failed, ok()]);
    expect(kinds).toEqual([['raised:jam'], ['missed:jam'], [], ['cleared:jam']]);
  });

  it('device-unreachable after three consecutive failures, cleared by the next success', () => {
    const toner = fault('toner-low', 'toner black');
    const { kinds, state } = run([ok(toner), failed, failed, failed, failed, ok(toner)]);
    expect(kinds).toEqual([
      ['raised:toner-low'],
      [],
      [],
      ['raised:device-unreachable'],
      [],
      ['seen:toner-low', 'cleared:device-unreachable'],
    ]);
    expect(state.consecutiveFailures).toBe(0);
    expect(run([failed, failed, ok(), failed, failed]).kinds.flat()).toEqual([]);
  });

  it('the same code on two subunits is two events; a device cannot report itself unreachable', () => {
    const { kinds } = run([ok(fault('jam', 'tray 1'), fault('jam', 'tray 2'), fault('jam', 'tray 1'), fault('device-unreachable'))]);
    expect(kinds).toEqual([['raised:jam', 'raised:jam']]);
  });
});

describe('fault state machine properties', () => {
  const codes: FaultCode[] = ['jam', 'toner-low', 'no-paper', 'door-open'];
  const observed = fc
    .record({ code: fc.constantFrom(...codes), subunit: fc.constantFrom('', 'tray 1', 'tray 2') })
    .map((f) => fault(f.code, f.subunit));
  const outcome: fc.Arbitrary<PollOutcome> = fc.oneof(
    { weight: 3, arbitrary: fc.array(observed, { maxLength: 5 }).map((faults) => ({ ok: true as const, faults })) },
    { weight: 1, arbitrary: fc.constant(failed) },
  );

  it('never two open events with the same key; a failed poll never clears; clears need two clean polls', () => {
    const tally = caseTally<'cleared'>();
    const numRuns = 500;
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 40 }), (outcomes) => {
        let clearChecked = false;
        let state = initial;
        const absentOkPolls = new Map<string, number>(); // per open key: successful polls without it
        for (const o of outcomes) {
          const { transitions, state: next } = stepFaultState(state, o);
          const keys = next.open.map(faultKey);
          expect(new Set(keys).size).toBe(keys.length);
          if (!o.ok) {
            expect(transitions.filter((t) => t.kind === 'cleared' || t.kind === 'missed' || t.kind === 'seen')).toEqual([]);
          } else {
            const seenNow = new Set(o.faults.map(faultKey));
            for (const t of transitions) {
              if (t.kind !== 'cleared' || t.code === 'device-unreachable') continue;
              const key = faultKey(t);
              expect(seenNow.has(key)).toBe(false);
              expect((absentOkPolls.get(key) ?? 0) + 1).toBeGreaterThanOrEqual(2);
              clearChecked = true;
            }
            for (const e of state.open) {
              const key = faultKey(e);
              absentOkPolls.set(key, seenNow.has(key) ? 0 : (absentOkPolls.get(key) ?? 0) + 1);
            }
          }
          for (const t of transitions) if (t.kind === 'raised') absentOkPolls.set(faultKey(t.fault), 0);
          // what is open is exactly what the transitions say
          const raised = transitions.filter((t) => t.kind === 'raised').length;
          const cleared = transitions.filter((t) => t.kind === 'cleared').length;
          expect(next.open.length).toBe(state.open.length + raised - cleared);
          state = next;
        }
        tally.count(clearChecked ? 'cleared' : 'decoded');
      }),
      { numRuns },
    );
    // sequences in which a fault was cleared: the two-clean-polls rule was checked
    tally.atLeast('cleared', 0.2, numRuns);
  });

  it('device-unreachable is open exactly when the last three or more polls failed since it was raised', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 40 }), (oks) => {
        let state = initial;
        let failures = 0;
        for (const isOk of oks) {
          state = stepFaultState(state, isOk ? ok() : failed).state;
          failures = isOk ? 0 : failures + 1;
          expect(state.consecutiveFailures).toBe(failures);
          expect(state.open.some((f) => f.code === 'device-unreachable')).toBe(failures >= 3);
        }
      }),
      { numRuns: 300 },
    );
  });
});
