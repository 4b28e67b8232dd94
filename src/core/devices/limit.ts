/**
 * A counting semaphore: at most `max` calls of `run` are in flight at once. The SNMP driver
 * shares one across all devices so a pass over 500 printers never opens 500 sockets and
 * never floods a site's LAN or a small box's UDP buffers.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createLimiter(max: number): Limiter {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency must be a positive integer, got ${max}`);
  let active = 0;
  const waiting: Array<() => void> = [];
  // a finishing task hands its slot straight to the next waiter, so a newcomer arriving in
  // between can never take it and push the count over `max`
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return {
    async run(task) {
      if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      else active++;
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}

/** map with at most `max` items in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], max: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const limiter = createLimiter(max);
  return Promise.all(items.map((item, i) => limiter.run(() => fn(item, i))));
}
