#!/usr/bin/env node
// Thin shell: all behaviour lives in the compiled CLI (dist/cli.js). stdout is written by
// dist/commands/output.js (a reader that closed the pipe early is not an error of ours).
import { main } from '../dist/cli.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
