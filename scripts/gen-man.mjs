#!/usr/bin/env node
// Build step: write man/rds.1 (roff, man(7)) from the same commander program `rds --help`
// prints, so the man page can never drift from the options. Run after tsc (needs dist/).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../dist/program.js';
import { ROOT_HELP } from '../dist/root-help.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Escape text for roff: backslashes, and a leading . or ' that would read as a request. */
const esc = (text) =>
  text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');

function commandSection(cmd, prefix) {
  const name = `${prefix} ${cmd.name()}`.trim();
  const usage = cmd.usage();
  const out = [`.SS "${esc(name)}${usage ? ` ${esc(usage)}` : ''}"`, esc(cmd.description())];
  for (const opt of cmd.options) {
    if (opt.hidden) continue;
    out.push(
      '.TP',
      `.B ${esc(opt.flags)}`,
      esc(opt.description + (opt.defaultValue !== undefined ? ` (default: ${JSON.stringify(opt.defaultValue)})` : '')),
    );
  }
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  return [out.join('\n'), ...subs.map((c) => commandSection(c, name))];
}

const program = buildProgram({});
const sections = program.commands.filter((c) => c.name() !== 'help').flatMap((c) => commandSection(c, 'rds'));
const globals = program.options.map((o) => `.TP\n.B ${esc(o.flags)}\n${esc(o.description)}`).join('\n');
const page = `.TH RDS 1 "" "rds ${pkg.version}" "User Commands"
.SH NAME
rds \\- ${esc(program.description())}
.SH SYNOPSIS
.B rds
[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR]
.SH GLOBAL OPTIONS
${globals}
.SH COMMANDS
${sections.join('\n')}
.SH NOTES
.nf
${esc(ROOT_HELP.trim())}
.fi
`;
fs.mkdirSync(path.join(root, 'man'), { recursive: true });
fs.writeFileSync(path.join(root, 'man', 'rds.1'), page);
