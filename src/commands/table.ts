/** Plain column tables like the original system's screen: padded, no borders, UTF-8 aware. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] as number) - [...c].length)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `2026-11-22 00:11` in UTC, as in SPEC §3; '-' when never. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
}
