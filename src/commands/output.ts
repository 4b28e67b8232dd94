import { showLines } from '../core/text/show.js';
import type { CommandResult } from './types.js';

export function printResult(result: CommandResult, json: boolean): void {
  if (json) {
    if (result.data !== undefined) process.stdout.write(`${JSON.stringify(result.data, null, 2)}\n`);
    return;
  }
  if (result.text) writeText(result.text);
}

/** Human output: outside text in it is neutralised here, at the sink, whatever built the lines. */
export function writeText(text: string): void {
  const shown = showLines(text);
  process.stdout.write(shown.endsWith('\n') ? shown : `${shown}\n`);
}
