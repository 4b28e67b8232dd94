/**
 * The most processes that held a lock at once, from a log of `+PID` (took it) and `-PID`
 * (about to release it) lines appended by each holder (the lock hammers in test/cli/locks
 * and test/hostile/faults-injection).
 */
export function mostHoldersAtOnce(events: readonly string[]): number {
  let holders = 0;
  let most = 0;
  for (const e of events) {
    holders += e.startsWith('+') ? 1 : -1;
    most = Math.max(most, holders);
  }
  return most;
}
