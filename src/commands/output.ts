/**
 * What a command prints, on stdout written straight to file descriptor 1: `process.stdout`
 * on a pipe (cron's mailer, `rds … | head`, a test) is a net.Socket, and touching it loads
 * Node's net and stream modules, a few milliseconds of every cron pass (issue 13). Writes are
 * synchronous, as process.stdout's are on a pipe, a file or a terminal, so the order of
 * what is written stays the order of the calls.
 *
 * A reader that closed the pipe early (EPIPE) is not an error of ours: the rest is dropped
 * and the command ends with its own exit code. A descriptor left non-blocking by whoever
 * started rds (EAGAIN) gets the rest through process.stdout, which waits for the reader.
 */
import fs from 'node:fs';
import { showLines } from '../core/text/show.js';
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

let readerGone = false;
let guarded = false;
/** Once a write went through process.stdout (EAGAIN), every later one does too: in order behind it. */
let viaStream = false;

/** Write `text` to stdout (see above). */
export function writeStdout(text: string): void {
  if (readerGone) return;
  if (viaStream) {
    process.stdout.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  try {
    while (done < bytes.length) done += fs.writeSync(1, bytes, done);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') readerGone = true;
    else if (code === 'EAGAIN') {
      viaStream = true;
      quietOnClosedStdout();
      process.stdout.write(bytes.subarray(done));
    } else throw error;
  }
}

/**
 * What commander and the demo write through process.stdout: a reader that closed the pipe
 * early ends rds quietly with the exit code so far, as it always did. Called on the paths
 * that use process.stdout only (a cron pass never touches it).
 */
export function quietOnClosedStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
