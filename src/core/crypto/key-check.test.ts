// The key files an agent pass checks (key-check.ts): the same refusals as reading them with
// openpgp, a file that passed recorded by its hash, and nothing trusted from a record that is
// not ours and 0600, from a changed file, or for a passphrase-protected key.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkKeyFiles, KEYS_CHECKED_FILE } from './key-check.js';
import { generateKeyPair } from './keys.js';

let dir: string;
let state: string;
let priv: string;
let pub: string;
let locked: string;

const record = () => JSON.parse(fs.readFileSync(path.join(state, KEYS_CHECKED_FILE), 'utf8')) as Record<string, { sha256: string }>;
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? String(e),
  );

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-keycheck-'));
  state = path.join(dir, 'state');
  fs.mkdirSync(state, { mode: 0o700 });
  const pair = await generateKeyPair('A', 'a@example.com');
  priv = path.join(dir, 'private.asc');
  pub = path.join(dir, 'host.asc');
  fs.writeFileSync(priv, pair.privateArmored, { mode: 0o600 });
  fs.writeFileSync(pub, pair.publicArmored);
  locked = path.join(dir, 'locked.asc');
  fs.writeFileSync(locked, (await generateKeyPair('B', 'b@example.com', 'secret')).privateArmored, { mode: 0o600 });
}, 60_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('checkKeyFiles', () => {
  const keys = () => [
    { file: priv, kind: 'private' as const },
    { file: pub, kind: 'public' as const },
  ];

  it('records the files that passed, mode 0600, and passes them again', async () => {
    await checkKeyFiles(state, keys(), () => undefined);
    expect(Object.keys(record()).sort()).toEqual([priv, pub].sort());
    expect(fs.statSync(path.join(state, KEYS_CHECKED_FILE)).mode & 0o777).toBe(0o600);
    expect(await codeOf(checkKeyFiles(state, keys(), () => undefined))).toBe('ok');
  });

  it('a key file changed to garbage after it was recorded: BAD_KEY, every time', async () => {
    const garbage = path.join(dir, 'garbage.asc');
    fs.copyFileSync(pub, garbage);
    const k = [{ file: garbage, kind: 'public' as const }];
    await checkKeyFiles(state, k, () => undefined);
    fs.writeFileSync(garbage, 'not a key');
    expect(await codeOf(checkKeyFiles(state, k, () => undefined))).toBe('BAD_KEY');
    expect(await codeOf(checkKeyFiles(state, k, () => undefined))).toBe('BAD_KEY');
  });

  it('a key file that is a folder: KEY_UNREADABLE, as reading it with openpgp says', async () => {
    const folder = path.join(dir, 'keydir');
    fs.mkdirSync(folder);
    expect(await codeOf(checkKeyFiles(state, [{ file: folder, kind: 'public' }], () => undefined))).toBe('KEY_UNREADABLE');
  });

  it('a record that is not 0600 is not trusted: a garbage file it vouches for is refused', async () => {
    const garbage = path.join(dir, 'vouched.asc');
    fs.writeFileSync(garbage, 'not a key either');
    const sha = (await import('node:crypto')).createHash('sha256').update(fs.readFileSync(garbage)).digest('hex');
    const file = path.join(state, KEYS_CHECKED_FILE);
    fs.rmSync(file);
    fs.writeFileSync(file, JSON.stringify({ [garbage]: { kind: 'public', sha256: sha } }), { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(await codeOf(checkKeyFiles(state, [{ file: garbage, kind: 'public' }], () => undefined))).toBe('BAD_KEY');
  });

  it('a protected private key is unlocked on every check, never recorded: a wrong passphrase is refused each time', async () => {
    const k = [{ file: locked, kind: 'private' as const }];
    expect(await codeOf(checkKeyFiles(state, k, () => 'secret'))).toBe('ok');
    expect(fs.existsSync(path.join(state, KEYS_CHECKED_FILE)) ? record()[locked] : undefined).toBeUndefined();
    expect(await codeOf(checkKeyFiles(state, k, () => 'wrong'))).toBe('KEY_PASSPHRASE_WRONG');
    expect(await codeOf(checkKeyFiles(state, k, () => undefined))).toBe('KEY_PASSPHRASE_MISSING');
  });
});
