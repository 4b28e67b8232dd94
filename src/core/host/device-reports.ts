import type { Clock } from '../clock.js';
import type { HandlerRegistry } from '../message/inbound.js';
import type { Sender } from '../message/outgoing.js';
import type { Db } from '../store/db.js';

export interface HostDeviceContext {
  db: Db;
  clock: Clock;
  self: Sender;
  ttlMs: number;
}

/** Fault reports and counter reports (the devices flows plug in here). */
export function hostDeviceHandlers(_ctx: HostDeviceContext): HandlerRegistry {
  return {};
}
