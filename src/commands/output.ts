import { showLines } from '../core/text/show.js';
import { writeStdout } from './stdout.js';
import type { CommandResult } from './types.js';

export function printResult(result: CommandResult, json: boolean): void {
  if (json) {
    if (result.data !== undefined) writeStdout(`${showJson(result.data)}\n`);
    return;
  }
  if (result.text) writeText(result.text);
}

/**
 * JSON escapes C0 controls itself; DEL, C1 and the bidi controls are written as \uXXXX too,
 * so a terminal showing the JSON acts on none of them. The parsed value stays exact.
 */
export function showJson(data: unknown): string {
  return JSON.stringify(data, null, 2).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Human output: outside text in it is neutralised here, at the sink, whatever built the lines. */
export function writeText(text: string): void {
  const shown = showLines(text);
  writeStdout(shown.endsWith('\n') ? shown : `${shown}\n`);
}
