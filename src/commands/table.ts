import { showText } from '../core/text/show.js';

/** Plain column tables like the original system's screen: padded, no borders, UTF-8 aware. */
export function formatTable(rawHeaders: string[], rawRows: string[][]): string {
  // cells hold outside text (agent ids, versions, device strings): never a control on screen
  const headers = rawHeaders.map(showText);
  const rows = rawRows.map((r) => r.map(showText));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] as number) - [...c].length)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `2026-11-22 00:11` in UTC, as in docs/verify.md; '-' when never. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  // a damaged row must not stop a listing: show what is there, marked
  if (Number.isNaN(t)) return `unreadable: ${showText(String(iso).slice(0, 40))}`;
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}
