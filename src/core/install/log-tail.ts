/**
 * The tail of an install log that travels with an update result (issue 10 part 2): the last
 * LOG_TAIL_MAX_LINES lines, at most LOG_TAIL_MAX_BYTES bytes of UTF-8. The agent cuts its log
 * to this before sending; the host cuts again whatever arrives (an agent may be hostile) and
 * records that it had to. The text stays as sent: it is neutralised where it is shown
 * (showText/showLines, showJson), never here.
 */
export const LOG_TAIL_MAX_LINES = 40;
export const LOG_TAIL_MAX_BYTES = 4096;
/** recorded with a tail the host had to cut */
export const LOG_TAIL_TRUNCATED = 'LOG_TAIL_TRUNCATED';

export interface BoundedTail {
  text: string;
  truncated: boolean;
}

/** The last lines of `text` within both limits; empty lines are kept (they are part of the log). */
export function boundLogTail(text: string): BoundedTail {
  let out = text.replace(/\n+$/, '');
  let truncated = false;
  const lines = out.split('\n');
  if (lines.length > LOG_TAIL_MAX_LINES) {
    out = lines.slice(-LOG_TAIL_MAX_LINES).join('\n');
    truncated = true;
  }
  if (Buffer.byteLength(out, 'utf8') > LOG_TAIL_MAX_BYTES) {
    // every code point is at least one byte: the last MAX_BYTES code points hold the answer
    const points = [...out.slice(-LOG_TAIL_MAX_BYTES * 2)];
    let start = Math.max(0, points.length - LOG_TAIL_MAX_BYTES);
    let bytes = Buffer.byteLength(points.slice(start).join(''), 'utf8');
    while (bytes > LOG_TAIL_MAX_BYTES) {
      bytes -= Buffer.byteLength(points[start] as string, 'utf8');
      start += 1;
    }
    out = points.slice(start).join('');
    truncated = true;
  }
  return { text: out, truncated };
}

/** The last non-empty line of a tail, for one-line views (verify). */
export function lastLogLine(tail: string | null | undefined): string | null {
  if (!tail) return null;
  const lines = tail.split('\n').filter((l) => l.trim() !== '');
  return lines.length > 0 ? (lines[lines.length - 1] as string) : null;
}
