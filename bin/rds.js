#!/usr/bin/env node
// Thin shell: all behaviour lives in the compiled CLI (dist/cli.js).
import { main } from '../dist/cli.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
