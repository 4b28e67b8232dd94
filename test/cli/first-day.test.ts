// What a new administrator meets first: `rds -v`, the root --help (examples, exit codes,
// where the docs are), and the man page generated from the same program at build time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, rds } from '../support/cli.js';

beforeAll(() => ensureBuilt(), 120_000);

describe('first contact', () => {
  it('`rds -v` prints the same version as --version and exits 0', async () => {
    const short = await rds(['-v'], { cwd: ROOT });
    const long = await rds(['--version'], { cwd: ROOT });
    expect(short.code).toBe(0);
    expect(short.stdout).toBe(long.stdout);
  });

  it('root --help lists examples, every exit code and where the docs are', async () => {
    const r = await rds(['--help'], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Examples:\n {2}rds demo/m);
    for (const code of [0, 1, 2, 3, 4]) expect(r.stdout).toMatch(new RegExp(`^ {2}${code} {2}\\S`, 'm'));
    expect(r.stdout).toContain('docs/deployment.md');
    expect(r.stdout).toContain('man rds');
  });

  it('the generated man page (package.json "man") documents every command --help lists', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.man).toEqual(['./man/rds.1']);
    expect(pkg.files).toContain('man/');
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-man.mjs')], { cwd: ROOT });
    const page = fs.readFileSync(path.join(ROOT, 'man', 'rds.1'), 'utf8');
    expect(page).toMatch(/^\.TH RDS 1 /);
    const help = (await rds(['--help'], { cwd: ROOT })).stdout;
    const commands = [
      ...help
        .split('Commands:')[1]!
        .split('Examples:')[0]!
        .matchAll(/^ {2}([a-z][a-z-]*)/gm),
    ]
      .map((m) => m[1])
      .filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(10);
    for (const c of commands) expect(page).toContain(`.SS "rds ${c.replace(/-/g, '\\-')}`);
  });
});
