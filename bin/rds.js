#!/usr/bin/env node
// Thin shell: all behaviour lives in the compiled CLI (dist/cli.js).
import { main } from '../dist/cli.js';

// `rds … | head`: a reader that closed the pipe early is not an error of ours
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
