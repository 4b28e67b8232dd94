/**
 * rds's stdout, written straight to file descriptor 1. `process.stdout` on a pipe (cron's
 * mailer, `rds … | head`, a test) is a net.Socket: touching it loads Node's net and stream
 * modules, a few milliseconds of every cron pass on a small box (issue 13). Writes are
 * synchronous, as process.stdout's are on a pipe, a file or a terminal, so the order of
 * what is written stays the order of the calls.
 *
 * A reader that closed the pipe early (EPIPE) is not an error of ours: the rest is dropped
 * and the command ends with its own exit code. A descriptor left non-blocking by whoever
 * started rds (EAGAIN) gets the rest through process.stdout, which waits for the reader.
 */
import fs from 'node:fs';

let readerGone = false;
let guarded = false;

/** Write `text` to stdout (see above). */
export function writeStdout(text: string): void {
  if (readerGone) return;
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  try {
    while (done < bytes.length) done += fs.writeSync(1, bytes, done);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') readerGone = true;
    else if (code === 'EAGAIN') {
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
