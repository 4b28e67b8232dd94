/**
 * What the two device passes (faults/watch-faults.ts, counters/collect-counters.ts) share:
 * their options, and how a failed poll is described.
 */
import type { Clock } from '../clock.js';
import { isRdsError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DriverRegistry } from './types.js';

export interface PassOptions {
  drivers: DriverRegistry;
  clock?: Clock;
  /** Devices in flight at once (default 32); drivers may cap further. */
  concurrency?: number;
  logger?: Logger;
  /** Event/reading ids; random UUIDs by default. */
  newId?: () => string;
}

/** A poll's error as a stable code (DEVICE_UNREACHABLE, DEVICE_ERROR, …) and message. */
export function describeError(error: unknown): { code: string; message: string } {
  if (isRdsError(error)) return { code: error.code, message: error.message };
  return { code: 'DEVICE_ERROR', message: error instanceof Error ? error.message : String(error) };
}
