/**
 * A small structured logger writing one line per event to stderr (journald-friendly:
 * `level: message key=value`). Passed into transports and flows; never given secrets.
 */
import { showText } from './text/show.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function formatField(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // JSON quoting escapes C0 controls; showText also catches C1 and bidi controls
  return showText(/[\s"=]/.test(text ?? '') ? JSON.stringify(text) : String(text));
}

export interface LoggerOptions {
  /**
   * Start each line with an ISO 8601 time: wanted where nothing else stamps it (cron mail, a
   * log file), not in the journal, which records its own time for every line.
   */
  timestamps?: boolean;
  now?: () => Date;
}

export function createLogger(
  level: LogLevel | 'silent' = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
  options: LoggerOptions = {},
): Logger {
  const now = options.now ?? (() => new Date());
  const min = level === 'silent' ? Number.POSITIVE_INFINITY : ORDER[level];
  const log = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < min) return;
    const extra = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => ` ${k}=${formatField(v)}`)
          .join('')
      : '';
    const stamp = options.timestamps ? `${now().toISOString()} ` : '';
    write(`${stamp}${at}: ${showText(message)}${extra}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = createLogger('silent');
