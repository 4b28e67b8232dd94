import { acquireLocks, type CommandLock, type Resource, tryLock } from '../core/store/lock.js';

/**
 * `hold`: taken at open for the whole command (busy: COMMAND_LOCKED, exit 3). `perPass`:
 * taken around each use (one take-in, one flush) so a loop (`--every`, `--wait`) never
 * holds them for good; busy then means that pass skips the work, which the holder does.
 * A plain list is `hold`.
 */
export type LockPlan = readonly Resource[] | { hold?: readonly Resource[]; perPass: readonly Resource[] };

export interface ContextLocks {
  /** held for the whole command: use it freely */
  holds(resource: Resource): boolean;
  /** for one use: a release (a no-op when held for the whole command), or undefined when busy */
  take(resource: Resource): CommandLock | undefined;
}

/** The command's locks by plan: those to hold taken now (busy: COMMAND_LOCKED, exit 3), the others on use. */
export async function contextLocks(
  stateDir: string,
  command: string,
  plan: LockPlan | undefined,
): Promise<{ locks: ContextLocks; whole?: CommandLock }> {
  const hold = plan === undefined ? [] : Array.isArray(plan) ? (plan as readonly Resource[]) : ((plan as { hold?: Resource[] }).hold ?? []);
  const whole = hold.length > 0 ? await acquireLocks(stateDir, hold, command) : undefined;
  const holds = (r: Resource) => hold.includes(r);
  const locks = { holds, take: (r: Resource) => (holds(r) ? { release: () => {} } : tryLock(stateDir, r, command)) };
  return whole ? { locks, whole } : { locks };
}
