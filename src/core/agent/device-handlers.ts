import type { HandlerRegistry } from '../message/inbound.js';
import type { AgentHandlerContext } from './handlers.js';

/** Fault acks and counter requests (the devices flows plug in here). */
export function deviceHandlers(_ctx: AgentHandlerContext): HandlerRegistry {
  return {};
}
