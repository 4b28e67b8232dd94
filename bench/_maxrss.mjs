// Fallback peak-RSS probe when GNU time is missing: run a node script IN this process and,
// on exit, write process.resourceUsage().maxRSS (KB) to $BENCH_RSS_OUT.
//   node bench/_maxrss.mjs SCRIPT [ARGS...]   (or: node bench/_maxrss.mjs -e CODE)
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const out = process.env.BENCH_RSS_OUT;
process.on('exit', () => {
  if (out) fs.writeFileSync(out, `${process.resourceUsage().maxRSS}\n`);
});
const [script, ...args] = process.argv.slice(2);
if (script === '-e') {
  await import(`data:text/javascript,${encodeURIComponent(args[0] ?? '')}`);
} else {
  process.argv = [process.argv[0], path.resolve(script), ...args];
  await import(pathToFileURL(path.resolve(script)).href);
}
