/**
 * The one neutraliser for outside text (agents, devices, mail) on its way to a terminal or a
 * log: C0 controls (ESC starts CSI/OSC sequences, CR overwrites a line, BS erases), DEL, C1
 * controls (U+0080–U+009F, 8-bit CSI among them) and the Unicode bidi controls that reorder
 * what is shown (U+202A–U+202E overrides/embeddings, U+2066–U+2069 isolates, U+200E/U+200F
 * marks, U+061C) are written visibly escaped: `\x1b`, `\u202e`. Nothing else changes, so
 * ordinary text (accents, CJK, emoji) stays readable.
 *
 * Idempotent on purpose: escaped output holds no control left to escape, so applying it at
 * every sink (table cells, then the printed lines, log lines) never double-escapes. `--json`
 * output does not pass here: JSON escaping keeps the exact value there.
 */

const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_BUT_LAYOUT = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One field of outside text, shown on one line: every control (newline and tab too) escaped. */
export function showText(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** Printed output made of lines: newlines and tabs stay layout, every other control is escaped. */
export function showLines(text: string): string {
  return text.replace(UNSAFE_BUT_LAYOUT, escapeOne);
}

/** True when the text holds no control or bidi character at all (ids, codes, module names). */
export function isPlainText(text: string): boolean {
  UNSAFE.lastIndex = 0;
  return !UNSAFE.test(text);
}
