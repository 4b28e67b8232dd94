import type { CommandResult } from './types.js';

export function printResult(result: CommandResult, json: boolean): void {
  if (json) {
    if (result.data !== undefined) process.stdout.write(`${JSON.stringify(result.data, null, 2)}\n`);
    return;
  }
  if (result.text) process.stdout.write(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
}
