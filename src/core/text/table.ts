/**
 * Plain column tables like the original system's screen: padded, no borders. Columns line up
 * by display width (string-width: East Asian wide characters and emoji take two terminal
 * columns, combining marks and zero-width characters none), measured on the neutralised text
 * that is printed. Times are shown in the operator's time zone (`TZ`, else the system's), the
 * zone named once, in the title of a table's first time column; `--json` keeps ISO-8601 UTC.
 * See docs/formats.md ("Tables and times").
 */
import stringWidth from 'string-width';
import { showText } from './show.js';

/** A column of times: its cells are ISO-8601 strings or Dates, formatted here in the operator's zone. */
export interface TimeColumn {
  title: string;
  time: true;
  /** shown for a missing time (null, undefined, ''); '-' unless told */
  none?: string;
}

export type Column = string | TimeColumn;
export type Cell = string | Date | null | undefined;

/** Marks a column as holding times: `formatTable([timeColumn('Created'), …], [[row.createdAt, …]])`. */
export function timeColumn(title: string, options: { none?: string } = {}): TimeColumn {
  return { title, time: true, ...options };
}

const ASCII = /^[\x20-\x7e]*$/;
const segmenter = new Intl.Segmenter();
// a cluster drawn as an emoji: pictographs, flags, keycaps, anything asking for emoji presentation
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\ufe0f|\u20e3/u;
// a cluster that starts with a mark or an invisible character (ZWSP, ZWJ, BOM, variation selector…)
const INVISIBLE = /^[\p{Mn}\p{Me}\p{Default_Ignorable_Code_Point}]/u;

/**
 * Terminal columns the text takes, per grapheme cluster: an emoji (ZWJ sequences, flags and
 * keycaps included) two, a zero-width one none, anything else its base character's width by
 * string-width (its combining marks add nothing).
 */
export function displayWidth(text: string): number {
  if (ASCII.test(text)) return text.length;
  let width = 0;
  for (const { segment } of segmenter.segment(text)) {
    if (EMOJI.test(segment)) width += Math.min(2, Math.max(1, stringWidth(segment)));
    else if (!INVISIBLE.test(segment)) width += stringWidth(String.fromCodePoint(segment.codePointAt(0) as number));
  }
  return width;
}

function cellText(column: Column | undefined, cell: Cell): string {
  if (typeof column === 'object' && (cell === null || cell === undefined || cell === '')) return column.none ?? '-';
  if (typeof column === 'object' || cell instanceof Date) return formatTime(cell);
  return cell ?? '';
}

function titles(columns: Column[]): string[] {
  let named = false;
  return columns.map((c) => {
    if (typeof c === 'string') return showText(c);
    if (named) return showText(c.title);
    named = true;
    return `${showText(c.title)} (${timeZoneName()})`;
  });
}

/** The table as text: columns three spaces apart, each padded to its widest cell, no trailing blanks. */
export function formatTable(columns: Column[], rawRows: Cell[][]): string {
  // cells hold outside text (agent ids, notes, device strings): never a control on screen
  const headers = titles(columns);
  const rows = rawRows.map((r) => r.map((cell, i) => showText(cellText(columns[i], cell))));
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] as number) - displayWidth(c)))))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const zones = new Map<string, { name: string; format: Intl.DateTimeFormat }>();

/** The operator's zone: `TZ` through Intl, else the system's; UTC when neither names a known zone. */
function zone(): { name: string; format: Intl.DateTimeFormat } {
  const key = process.env.TZ ?? '';
  let z = zones.get(key);
  if (!z) {
    const resolved = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    const name = resolved && resolved !== 'Etc/Unknown' ? resolved : 'UTC';
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    z = { name, format };
    zones.set(key, z);
  }
  return z;
}

/** The zone times are shown in, e.g. `UTC`, `Asia/Tokyo`. */
export function timeZoneName(): string {
  return zone().name;
}

function toMs(value: string | Date): number {
  return value instanceof Date ? value.getTime() : Date.parse(value);
}

/** `2026-11-22 09:11` in the operator's zone; '-' when never. */
export function formatTime(value: string | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  const t = toMs(value);
  // a damaged row must not stop a listing: show what is there, marked
  if (Number.isNaN(t)) return `unreadable: ${showText(String(value).slice(0, 40))}`;
  const z = zone();
  if (z.name === 'UTC') return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
  const p = Object.fromEntries(z.format.formatToParts(t).map((part) => [part.type, part.value]));
  return `${String(p.year).padStart(4, '0')}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** `formatTime` with the zone after it, for a time outside a table: `2026-11-22 09:11 (Asia/Tokyo)`. */
export function formatTimeZoned(value: string | Date | null | undefined): string {
  return `${formatTime(value)} (${timeZoneName()})`;
}

/** The day (`2026-11-22`) in the operator's zone. */
export function formatDay(value: string | Date): string {
  const text = formatTime(value);
  return text.startsWith('unreadable') ? text : text.slice(0, 10);
}
