import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';

/** `--on 2026-11-25` (the end of that day, UTC) or a full ISO 8601 time; a bad one is exit 2 naming the flag. */
export function parseDateArg(text: string, flag: string, options: { endOfDay: boolean } = { endOfDay: true }): Date {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const full = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
  const t = Date.parse(dateOnly ? `${text}T00:00:00Z` : text);
  if ((!dateOnly && !full) || Number.isNaN(t) || (dateOnly && new Date(t).toISOString().slice(0, 10) !== text)) {
    throw new UsageError('BAD_DATE', `${flag} '${text}' is not a date or time (e.g. 2026-11-25 or 2026-11-25T08:00:00Z)`);
  }
  return new Date(dateOnly && options.endOfDay ? t + 86_399_999 : t);
}

export function parseDurationArg(text: string, flag: string): number {
  return parseDuration(text, flag);
}
