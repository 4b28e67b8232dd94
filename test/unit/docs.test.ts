// The contract lives in docs/: every `docs/….md` (and `#anchor`) a source file cites exists,
// every command of the CLI is in docs/commands.md, and the README lists every docs file.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/program.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CITATION = /docs\/([A-Za-z0-9_-]+\.md)(?:#([A-Za-z0-9_-]+))?/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|mjs|js)$/.test(e.name) ? [p] : [];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (/^(```|~~~)/.test(line)) fence = !fence;
    const m = fence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = (m[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

function commandPaths(program: Command): string[] {
  const out: string[] = [];
  const walk = (cmd: Command, prefix: string[]) => {
    for (const c of cmd.commands) {
      if (c.name() === 'help') continue;
      out.push([...prefix, c.name()].join(' '));
      walk(c, [...prefix, c.name()]);
    }
  };
  walk(program, []);
  return out;
}

describe('docs', () => {
  it('slugs headings the way GitHub does', () => {
    const slugs = headingSlugs('# Formats\n## Update package `.rdsu`\n## Loops and locks\n## Loops and locks\n```\n# not a heading\n```\n');
    expect([...slugs]).toEqual(['formats', 'update-package-rdsu', 'loops-and-locks', 'loops-and-locks-1']);
  });

  it('every docs/….md file and #anchor cited under src/ exists', () => {
    const missing: string[] = [];
    let citations = 0;
    for (const file of sourceFiles(path.join(ROOT, 'src'))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const [, doc, anchor] of text.matchAll(CITATION)) {
        citations++;
        const where = `${path.relative(ROOT, file)}: docs/${doc}${anchor ? `#${anchor}` : ''}`;
        const docFile = path.join(ROOT, 'docs', doc as string);
        if (!fs.existsSync(docFile)) missing.push(`${where} (no such file)`);
        else if (anchor && !headingSlugs(fs.readFileSync(docFile, 'utf8')).has(anchor)) missing.push(`${where} (no such heading)`);
      }
    }
    expect(citations, 'citations found under src/').toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it('every command of the program is in docs/commands.md', () => {
    // walks commander's own tree, so it holds however the command table is declared
    const program = (buildProgram as unknown as (state: object) => Command)({});
    const paths = commandPaths(program);
    expect(paths.length, 'commands found in the program').toBeGreaterThan(30);
    const doc = fs.readFileSync(path.join(ROOT, 'docs/commands.md'), 'utf8');
    const undocumented = paths.filter((p) => !doc.includes(`\`rds ${p}\``) && !doc.includes(`\`rds ${p} `));
    expect(undocumented).toEqual([]);
  });

  it('every link between the documents (file and #anchor) exists', () => {
    const pages = ['README.md', 'SECURITY.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
      f.endsWith('.md'),
    );
    const broken: string[] = [];
    let links = 0;
    for (const page of pages) {
      const text = fs.readFileSync(path.join(ROOT, page), 'utf8');
      for (const [, target, anchor] of text.matchAll(/\]\(([^)#\s:]*\.md)?(?:#([^)\s]+))?\)/g)) {
        if (!target && !anchor) continue;
        links++;
        const file = target ? path.join(ROOT, path.dirname(page), target) : path.join(ROOT, page);
        if (!fs.existsSync(file)) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && !headingSlugs(fs.readFileSync(file, 'utf8')).has(anchor)) broken.push(`${page}: ${target ?? ''}#${anchor}`);
      }
    }
    expect(links, 'links found').toBeGreaterThan(30);
    expect(broken).toEqual([]);
  });

  it('README.md links every file in docs/', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const docs = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    expect(docs.length).toBeGreaterThan(5);
    expect(docs.filter((f) => !readme.includes(`](docs/${f})`))).toEqual([]);
  });
});
