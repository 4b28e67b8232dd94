/**
 * The fault state machine of one device, pure: (open events, poll outcome) → transitions.
 *
 * Rules (why each):
 * - One open event per (code, subunit): a jam seen on 60 polls is one report, not 60.
 * - A fault seen again only moves its last-seen time and resets its clean-poll count.
 * - A fault is cleared only after TWO successful polls without it: printers drop an alert
 *   row for one poll while they rebuild prtAlertTable, and a flapping report would reach
 *   the host as a clear followed by a new raise.
 * - A failed poll never clears anything (we saw nothing, so we know nothing) and does not
 *   count as a clean poll.
 * - device-unreachable is raised after THREE consecutive failed polls (one lost UDP
 *   exchange is not an outage) and cleared by the next successful poll.
 */
import type { FaultCode, ObservedFault, Severity } from '../types.js';
import { FAULT_SEVERITY } from './faults.js';

export const CLEAR_AFTER_CLEAN_POLLS = 2;
export const UNREACHABLE_AFTER_FAILURES = 3;

export interface OpenFault {
  code: FaultCode;
  subunit: string;
  severity: Severity;
  /** Successful polls in a row that did not show it. */
  cleanPolls: number;
}

export interface DeviceFaultState {
  open: readonly OpenFault[];
  consecutiveFailures: number;
}

export type PollOutcome = { ok: true; faults: readonly ObservedFault[] } | { ok: false; error: string };

export type FaultTransition =
  | { kind: 'raised'; fault: ObservedFault }
  | { kind: 'seen'; fault: ObservedFault }
  | { kind: 'missed'; code: FaultCode; subunit: string; cleanPolls: number }
  | { kind: 'cleared'; code: FaultCode; subunit: string };

export interface StepResult {
  transitions: FaultTransition[];
  state: DeviceFaultState;
}

export function faultKey(fault: { code: string; subunit: string }): string {
  return `${fault.code}\u0000${fault.subunit}`;
}

export function stepFaultState(state: DeviceFaultState, outcome: PollOutcome): StepResult {
  return outcome.ok ? stepOk(state, outcome.faults) : stepFailed(state, outcome.error);
}

function stepFailed(state: DeviceFaultState, error: string): StepResult {
  const consecutiveFailures = state.consecutiveFailures + 1;
  const unreachableOpen = state.open.some((f) => f.code === 'device-unreachable');
  if (consecutiveFailures < UNREACHABLE_AFTER_FAILURES || unreachableOpen) {
    return { transitions: [], state: { open: state.open, consecutiveFailures } };
  }
  const fault: ObservedFault = {
    code: 'device-unreachable',
    subunit: '',
    severity: FAULT_SEVERITY['device-unreachable'],
    source: `${consecutiveFailures} consecutive failed polls`,
    detail: error,
  };
  return {
    transitions: [{ kind: 'raised', fault }],
    state: { open: [...state.open, { code: fault.code, subunit: '', severity: fault.severity, cleanPolls: 0 }], consecutiveFailures },
  };
}

function stepOk(state: DeviceFaultState, observed: readonly ObservedFault[]): StepResult {
  const transitions: FaultTransition[] = [];
  const seen = new Map<string, ObservedFault>();
  for (const fault of observed) {
    // a device cannot report itself unreachable; that code belongs to this machine
    if (fault.code !== 'device-unreachable' && !seen.has(faultKey(fault))) seen.set(faultKey(fault), fault);
  }
  const open: OpenFault[] = [];
  for (const event of state.open) {
    const key = faultKey(event);
    const fault = seen.get(key);
    if (event.code === 'device-unreachable') {
      transitions.push({ kind: 'cleared', code: event.code, subunit: event.subunit });
    } else if (fault) {
      transitions.push({ kind: 'seen', fault });
      open.push({ ...event, severity: fault.severity, cleanPolls: 0 });
    } else if (event.cleanPolls + 1 >= CLEAR_AFTER_CLEAN_POLLS) {
      transitions.push({ kind: 'cleared', code: event.code, subunit: event.subunit });
    } else {
      transitions.push({ kind: 'missed', code: event.code, subunit: event.subunit, cleanPolls: event.cleanPolls + 1 });
      open.push({ ...event, cleanPolls: event.cleanPolls + 1 });
    }
    seen.delete(key);
  }
  for (const fault of seen.values()) {
    transitions.push({ kind: 'raised', fault });
    open.push({ code: fault.code, subunit: fault.subunit, severity: fault.severity, cleanPolls: 0 });
  }
  return { transitions, state: { open, consecutiveFailures: 0 } };
}
