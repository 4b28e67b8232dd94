/**
 * Bridges our Logger to the bunyan/pino-style loggers nodemailer, imapflow and smtp-server
 * accept. Everything they say goes to `debug` (our own code logs what matters at higher
 * levels, and their errors reach us as thrown errors anyway).
 *
 * Protocol traffic is never forwarded: a line can carry an AUTH/LOGIN exchange. Only the short
 * message text and a connection id pass.
 */
import { format } from 'node:util';
import type { Logger } from '../logger.js';

// smtp-server tags client commands `command` and its replies `send`; nodemailer tags the
// SMTP dialogue `client` / `server`; imapflow tags client and server lines `src: 'c'` / `'s'`.
const PROTOCOL_LINES = new Set(['command', 'send', 'client', 'server']);

type LogFn = (first?: unknown, message?: unknown, ...args: unknown[]) => void;
export interface LibraryLogger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
}

export function toLibraryLogger(logger: Logger, component: string): LibraryLogger {
  const forward: LogFn = (first, message, ...args) => {
    const entry = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
    if (entry.src === 'c' || entry.src === 's' || entry.logRaw !== undefined || PROTOCOL_LINES.has(String(entry.tnx))) return;
    const text =
      typeof message === 'string' ? format(message, ...args) : typeof entry.msg === 'string' ? entry.msg : describeErr(entry.err);
    if (!text) return;
    const cid = entry.cid ?? entry.sid;
    logger.debug(`${component}: ${text.replace(/\s+/g, ' ').slice(0, 300)}`, cid === undefined ? undefined : { cid });
  };
  return { trace: () => {}, debug: forward, info: forward, warn: forward, error: forward, fatal: forward };
}

function describeErr(err: unknown): string {
  if (!(err instanceof Error)) return '';
  const responseText = (err as { responseText?: unknown }).responseText;
  return typeof responseText === 'string' ? `${err.message}: ${responseText}` : err.message;
}
