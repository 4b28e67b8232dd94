import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkTrusted, ensureOwnDir, mkdirNoFollow, replaceFileSafely, trustProblem } from './trust.js';

let dir: string;
const uid = process.geteuid?.() ?? 0;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-trust-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('trustProblem', () => {
  it('a file is refused exactly when its group or others may write it; a secret also when they may read it', () => {
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'x');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0o777 }), (mode) => {
        fs.chmodSync(file, mode);
        const asFile = trustProblem({ path: file, kind: 'file', what: 'config' }, uid);
        const asSecret = trustProblem({ path: file, kind: 'secret', what: 'private key' }, uid);
        expect(asFile !== undefined).toBe((mode & 0o022) !== 0);
        expect(asSecret !== undefined).toBe((mode & 0o077) !== 0);
        if (asFile) expect(asFile).toContain(`is mode ${mode.toString(8).padStart(4, '0')}`);
      }),
      { numRuns: 200 },
    );
  });

  it('a folder above may be world-writable only with the sticky bit', () => {
    const open = path.join(dir, 'open');
    fs.mkdirSync(open);
    const file = path.join(open, 'config.json');
    fs.writeFileSync(file, '{}', { mode: 0o600 });
    fs.chmodSync(open, 0o777);
    expect(trustProblem({ path: file, kind: 'file', what: 'config' }, uid)).toMatch(/^folder .*open above config .* is mode 0777/);
    fs.chmodSync(open, 0o1777);
    expect(trustProblem({ path: file, kind: 'file', what: 'config' }, uid)).toBeUndefined();
  });

  it('a missing path is fine only where rds creates it, and then the folders above are checked', () => {
    const open = path.join(dir, 'open');
    fs.mkdirSync(open, { mode: 0o777 });
    fs.chmodSync(open, 0o777);
    const missing = path.join(open, 'state');
    expect(trustProblem({ path: missing, kind: 'dir', what: 'state dir', mayBeMissing: true }, uid)).toMatch(/above state dir/);
    expect(trustProblem({ path: missing, kind: 'file', what: 'config' }, uid)).toBeUndefined();
  });

  it('a symlink is judged as itself and then its target', () => {
    const real = path.join(dir, 'real.asc');
    fs.writeFileSync(real, 'k', { mode: 0o644 });
    const link = path.join(dir, 'host.asc');
    fs.symlinkSync(real, link);
    expect(trustProblem({ path: link, kind: 'file', what: 'pinned host key' }, uid)).toBeUndefined();
    fs.chmodSync(real, 0o666);
    expect(trustProblem({ path: link, kind: 'file', what: 'pinned host key' }, uid)).toMatch(/real\.asc is mode 0666/);
    expect(trustProblem({ path: link, kind: 'dir', what: 'state dir' }, uid)).toMatch(/is not a folder/);
    fs.rmSync(link);
    execFileSync('mkfifo', [link]);
    expect(trustProblem({ path: link, kind: 'file', what: 'pinned host key' }, uid)).toMatch(/host\.asc is not a regular file/);
  });

  it('checkTrusted throws the first problem as a usage error', () => {
    const file = path.join(dir, 'k');
    fs.writeFileSync(file, 'x', { mode: 0o640 });
    fs.chmodSync(file, 0o640);
    expect(() => checkTrusted([{ path: file, kind: 'secret', what: 'private key' }])).toThrow(
      expect.objectContaining({ code: 'UNTRUSTED_PATH', exitCode: 2 }),
    );
  });
});

describe('ensureOwnDir', () => {
  it('creates a missing folder 0700 and fixes a loose one of ours', () => {
    const made = path.join(dir, 'new');
    expect(ensureOwnDir(made, 'state dir')).toBeUndefined();
    expect(fs.statSync(made).mode & 0o777).toBe(0o700);
    fs.chmodSync(made, 0o777);
    expect(ensureOwnDir(made, 'state dir')).toBe(`state dir ${made} was mode 0777; now 0700`);
    expect(fs.statSync(made).mode & 0o777).toBe(0o700);
  });

  it('refuses a symlink in its place', () => {
    const link = path.join(dir, 'link');
    fs.symlinkSync(os.tmpdir(), link);
    expect(() => ensureOwnDir(link, 'key folder')).toThrow(/key folder .*link exists and is not a folder \(a symlink\)/);
  });
});

describe('writes that never follow a planted symlink', () => {
  it('replaceFileSafely replaces the link, the target keeps its content', () => {
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'precious');
    const file = path.join(dir, 'reason');
    fs.symlinkSync(victim, file);
    replaceFileSafely(file, 'mine', 0o600);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.lstatSync(file).isFile()).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('mine');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).sort()).toEqual(['reason', 'victim']);
  });

  it('mkdirNoFollow refuses a symlinked folder', () => {
    const link = path.join(dir, 'stage');
    fs.symlinkSync(os.tmpdir(), link);
    expect(() => mkdirNoFollow(link)).toThrow(/stage is a symlink/);
    mkdirNoFollow(path.join(dir, 'real'));
    expect(fs.lstatSync(path.join(dir, 'real')).isDirectory()).toBe(true);
  });
});
