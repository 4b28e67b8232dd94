/**
 * The one neutraliser for text printed on a terminal: anything that came from agents,
 * devices or mail may hold control characters that move the cursor, rewrite the screen or
 * reorder what follows (bidi overrides). C0 (all of them, tab and newline too), DEL and C1
 * become `\xNN`, bidi controls `\uNNNN`, and a backslash is doubled so the escaped form
 * cannot be forged by the input.
 */
const UNSAFE = /[\\\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

export function showText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
