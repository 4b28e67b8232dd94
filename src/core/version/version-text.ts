/**
 * The version report text of the original system (docs/formats.md#version-report-text):
 *
 *   Software Version<TAB>1.0.00-1
 *   ROM Version<TAB>1.5.08            (optional)
 *   ---Modules---
 *   abcd.exe<TAB>1.0.00<TAB>2002/01/01
 *
 * Columns are separated by a tab or by two or more spaces. Parsing is strict about
 * structure and tolerant of whitespace; `formatVersionText` writes the canonical form
 * (tabs, one trailing newline), so format∘parse is the identity on canonical text.
 */
import { ParseError } from '../errors.js';
import { isPlainText, showText } from '../text/show.js';
import { parseVersion } from './version.js';

export interface ModuleVersion {
  name: string;
  version: string;
  /** YYYY/MM/DD */
  date: string;
}

export interface VersionReport {
  softwareVersion: string;
  romVersion?: string;
  modules: ModuleVersion[];
}

const SEPARATOR = /\t+| {2,}/;
const MODULES_HEADING = '---Modules---';
const DATE_RE = /^(\d{4})\/(\d{2})\/(\d{2})$/;
const MAX_LINES = 10_000;
const MAX_NAME = 128;

function columns(line: string): string[] {
  return line
    .trim()
    .split(SEPARATOR)
    .map((c) => c.trim());
}

function fail(lineNo: number, message: string, line: string, code = 'BAD_VERSION_TEXT'): never {
  const shown = showText(line.length > 60 ? `${line.slice(0, 57)}...` : line);
  throw new ParseError(code, `version text line ${lineNo}: ${message} (got '${shown}')`, {
    line: lineNo,
  });
}

function readLabelled(line: string, lineNo: number, label: string): string {
  const cols = columns(line);
  if (cols[0] !== label) fail(lineNo, `expected '${label}<TAB>VERSION'`, line);
  if (cols.length !== 2) fail(lineNo, `expected exactly '${label}' and one version`, line);
  try {
    parseVersion(cols[1] as string);
  } catch {
    fail(
      lineNo,
      `'${showText(cols[1] as string)}' is not a version (expected N.N.NN with an optional free part, e.g. 1.0.02-0)`,
      line,
      'BAD_VERSION',
    );
  }
  return cols[1] as string;
}

function checkDate(date: string, lineNo: number, line: string): void {
  const match = DATE_RE.exec(date);
  const month = Number(match?.[2]);
  const day = Number(match?.[3]);
  if (!match || month < 1 || month > 12 || day < 1 || day > 31) {
    fail(lineNo, `'${date}' is not a date (expected YYYY/MM/DD, e.g. 2002/11/29)`, line);
  }
}

function readModule(line: string, lineNo: number, seen: Set<string>): ModuleVersion {
  const cols = columns(line);
  if (cols.length !== 3) fail(lineNo, 'expected a module line: NAME<TAB>VERSION<TAB>YYYY/MM/DD', line);
  const [name, version, date] = cols as [string, string, string];
  if (name.length > MAX_NAME || !isPlainText(name)) {
    fail(lineNo, `a module name must be at most ${MAX_NAME} characters without controls`, line, 'BAD_FIELD');
  }
  if (seen.has(name)) fail(lineNo, `module '${showText(name)}' is listed twice`, line);
  try {
    parseVersion(version);
  } catch {
    fail(lineNo, `'${showText(version)}' is not a module version (expected N.N.NN, e.g. 1.3.05)`, line, 'BAD_VERSION');
  }
  checkDate(date, lineNo, line);
  seen.add(name);
  return { name, version, date };
}

export function parseVersionText(text: string): VersionReport {
  if (text.includes('\0')) throw new ParseError('BAD_VERSION_TEXT', 'version text contains a NUL byte');
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  while (lines.length > 0 && (lines[lines.length - 1] as string).trim() === '') lines.pop();
  if (lines.length === 0) throw new ParseError('BAD_VERSION_TEXT', 'version text is empty', { line: 1 });
  if (lines.length > MAX_LINES) {
    throw new ParseError('BAD_VERSION_TEXT', `version text has ${lines.length} lines (at most ${MAX_LINES})`);
  }
  const softwareVersion = readLabelled(lines[0] as string, 1, 'Software Version');
  let next = 1;
  let romVersion: string | undefined;
  if (lines[next] !== undefined && columns(lines[next] as string)[0] === 'ROM Version') {
    romVersion = readLabelled(lines[next] as string, next + 1, 'ROM Version');
    next++;
  }
  const heading = lines[next];
  if (heading === undefined) fail(next + 1, `expected '${MODULES_HEADING}'`, '');
  if (heading.trim() !== MODULES_HEADING) fail(next + 1, `expected '${MODULES_HEADING}'`, heading);
  const seen = new Set<string>();
  const modules = lines.slice(next + 1).map((line, i) => readModule(line, next + 2 + i, seen));
  return romVersion === undefined ? { softwareVersion, modules } : { softwareVersion, romVersion, modules };
}

export function formatVersionText(report: VersionReport): string {
  const lines = [`Software Version\t${report.softwareVersion}`];
  if (report.romVersion !== undefined) lines.push(`ROM Version\t${report.romVersion}`);
  lines.push(MODULES_HEADING);
  for (const m of report.modules) lines.push(`${m.name}\t${m.version}\t${m.date}`);
  return `${lines.join('\n')}\n`;
}

/** The aligned form the original system printed, for people at a terminal. */
export function formatVersionTextAligned(report: VersionReport): string {
  const rows: string[][] = [['Software Version', report.softwareVersion]];
  if (report.romVersion !== undefined) rows.push(['ROM Version', report.romVersion]);
  const width = Math.max(18, ...report.modules.map((m) => m.name.length + 2), ...rows.map((r) => (r[0] as string).length + 2));
  const verWidth = Math.max(10, ...report.modules.map((m) => m.version.length + 2));
  const out = rows.map(([a, b]) => `${(a as string).padEnd(width)}${b}`);
  out.push(MODULES_HEADING);
  for (const m of report.modules) out.push(`${m.name.padEnd(width)}${m.version.padEnd(verWidth)}${m.date}`);
  return `${out.join('\n')}\n`;
}
