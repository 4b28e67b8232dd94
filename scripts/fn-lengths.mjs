#!/usr/bin/env node
// `node scripts/fn-lengths.mjs [DIR] [LIMIT]`: every function in DIR (default src/) longer
// than LIMIT lines (default 80), longest first, test files left out — the measure behind
// docs/architecture.md's "no function over ~80 lines". Exit 1 when there is one.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = process.argv[2] ?? 'src';
const limit = Number(process.argv[3] ?? 80);

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const isFunction = (n) =>
  ts.isFunctionDeclaration(n) ||
  ts.isMethodDeclaration(n) ||
  ts.isArrowFunction(n) ||
  ts.isFunctionExpression(n) ||
  ts.isConstructorDeclaration(n) ||
  ts.isGetAccessor(n) ||
  ts.isSetAccessor(n);

function nameOf(n) {
  if (n.name) return n.name.getText();
  const p = n.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p))) return p.name.getText();
  return '<anonymous>';
}

const long = [];
for (const file of sources(root)) {
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (n) => {
    if (isFunction(n)) {
      const from = src.getLineAndCharacterOfPosition(n.getStart()).line + 1;
      const to = src.getLineAndCharacterOfPosition(n.getEnd()).line + 1;
      if (to - from + 1 > limit) long.push({ lines: to - from + 1, where: `${file}:${from}-${to}`, name: nameOf(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
}
long.sort((a, b) => b.lines - a.lines);
for (const f of long) console.log(`${f.lines}\t${f.where}\t${f.name}`);
console.log(`${long.length} function(s) over ${limit} lines in ${root}/`);
process.exit(long.length > 0 ? 1 : 0);
