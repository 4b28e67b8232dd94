import fs from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import { generateKeyPair } from '../crypto/keys.js';
import { REFUSAL, type SecurityError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { packUpdate, parseModuleSpec } from '../package/pack.js';
import { type Db, openDb } from '../store/db.js';
import { readVersionReport, writeInstalled } from './installed.js';
import { initInstallRoot, installLayout } from './layout.js';
import { clearStaged, readStaged, type StagedUpdate, stashUpdate, verifyUpdate } from './staged.js';
import { agentState, removeAgentState } from './testing.js';

// The staged update's slot (docs/install.md#install-window) and the check made before
// staging: real temp dirs, a real SQLite state (migration 011), real packages.
let hostKey: openpgp.PrivateKey;
let agentKey: openpgp.PrivateKey;

beforeAll(async () => {
  const read = async (name: string) =>
    openpgp.readPrivateKey({ armoredKey: (await generateKeyPair(name, `${name.toLowerCase()}@example.test`)).privateArmored });
  [hostKey, agentKey] = await Promise.all([read('HOST'), read('A1')]);
});

let dir: string;
let stateDir: string;
let db: Db;

beforeEach(() => {
  ({ dir, stateDir, db } = agentState('s22-staged-'));
});
afterEach(() => removeAgentState({ dir, stateDir, db }));

/** A file standing for a verified package in STATE/incoming. */
function incoming(name: string): string {
  fs.mkdirSync(path.join(stateDir, 'incoming'), { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, 'incoming', `${name}.rdsu`);
  fs.writeFileSync(file, `package ${name}`, { mode: 0o600 });
  return file;
}

const entry = (packageId: string, softwareVersion: string, commandId = `cmd-${packageId}`): Omit<StagedUpdate, 'file'> => ({
  packageId,
  softwareVersion,
  commandId,
  rolloutId: `R-${commandId}`,
  stagedAt: '2026-12-07T12:00:00.000Z',
  deferredUntil: '2026-12-07T22:00:00.000Z',
});

const stagedDir = () => path.join(stateDir, 'staged');

describe('stashUpdate: one slot', () => {
  it('an empty slot: the file is moved (not copied) to STATE/staged/<package>.rdsu, 0600 in a 0700 folder, and recorded', () => {
    const file = incoming('a');
    const result = stashUpdate(db, stateDir, file, entry('pkg-aaaaaaaa', '1.0.02-0'));
    const target = path.join(stagedDir(), 'pkg-aaaaaaaa.rdsu');
    expect(result).toEqual({ kind: 'staged', staged: { ...entry('pkg-aaaaaaaa', '1.0.02-0'), file: target } });
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readFileSync(target, 'utf8')).toBe('package a');
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    expect(fs.statSync(stagedDir()).mode & 0o777).toBe(0o700);
    expect(readStaged(db)).toEqual(result.staged);
  });

  it('the same package again is not staged twice: the slot answers the newest command; its file stays', () => {
    stashUpdate(db, stateDir, incoming('a'), entry('pkg-aaaaaaaa', '1.0.02-0', 'first'));
    const second = incoming('a-again');
    const result = stashUpdate(db, stateDir, second, entry('pkg-aaaaaaaa', '1.0.02-0', 'second'));
    expect(result.kind).toBe('again');
    expect(readStaged(db)).toMatchObject({ commandId: 'second', rolloutId: 'R-second' });
    expect(fs.readdirSync(stagedDir())).toEqual(['pkg-aaaaaaaa.rdsu']);
    expect(fs.readFileSync(path.join(stagedDir(), 'pkg-aaaaaaaa.rdsu'), 'utf8')).toBe('package a');
    expect(fs.existsSync(second)).toBe(true); // the caller removes what it did not stage
  });

  it('a higher version replaces the staged one (its file removed) and names what it replaced', () => {
    stashUpdate(db, stateDir, incoming('a'), entry('pkg-aaaaaaaa', '1.0.02-0'));
    const result = stashUpdate(db, stateDir, incoming('b'), entry('pkg-bbbbbbbb', '1.0.03-0'));
    expect(result).toMatchObject({ kind: 'staged', staged: { packageId: 'pkg-bbbbbbbb' }, replaced: { packageId: 'pkg-aaaaaaaa' } });
    expect(fs.readdirSync(stagedDir())).toEqual(['pkg-bbbbbbbb.rdsu']);
    expect(readStaged(db)?.packageId).toBe('pkg-bbbbbbbb');
  });

  it.each([
    ['the same', '1.0.03-0'],
    ['a lower', '1.0.02-5'],
  ])('%s version of another package is not staged: superseded by the staged one', (_what, version) => {
    stashUpdate(db, stateDir, incoming('b'), entry('pkg-bbbbbbbb', '1.0.03-0'));
    const file = incoming('c');
    const result = stashUpdate(db, stateDir, file, entry('pkg-cccccccc', version));
    expect(result).toMatchObject({ kind: 'superseded', staged: { packageId: 'pkg-bbbbbbbb' } });
    expect(fs.readdirSync(stagedDir())).toEqual(['pkg-bbbbbbbb.rdsu']);
  });

  it('a file a crash left under STATE/staged (moved, never recorded) is removed by the next stash', () => {
    fs.mkdirSync(stagedDir(), { mode: 0o700 });
    fs.writeFileSync(path.join(stagedDir(), 'pkg-orphan0.rdsu'), 'orphan');
    stashUpdate(db, stateDir, incoming('a'), entry('pkg-aaaaaaaa', '1.0.02-0'));
    expect(fs.readdirSync(stagedDir())).toEqual(['pkg-aaaaaaaa.rdsu']);
  });

  it('clearStaged empties the slot and the folder; the slot survives reopening the store', () => {
    stashUpdate(db, stateDir, incoming('a'), entry('pkg-aaaaaaaa', '1.0.02-0'));
    db.close();
    db = openDb(stateDir);
    expect(readStaged(db)?.packageId).toBe('pkg-aaaaaaaa');
    clearStaged(db, stateDir);
    expect(readStaged(db)).toBeUndefined();
    expect(fs.readdirSync(stagedDir())).toEqual([]);
  });
});

describe('verifyUpdate: every check before staging, nothing installed', () => {
  let layoutRoot: string;
  beforeEach(() => {
    layoutRoot = path.join(dir, 'root');
    const release = initInstallRoot(layoutRoot, '1.0.00-1');
    writeInstalled(db, { softwareVersion: '1.0.00-1', release, updatedAt: '2026-11-01T00:00:00.000Z' });
  });

  async function pack(version: string, to: openpgp.PrivateKey = agentKey): Promise<string> {
    const src = fs.mkdtempSync(path.join(dir, 'src-'));
    fs.writeFileSync(path.join(src, 'install.sh'), '#!/bin/sh\necho never runs here\n');
    fs.writeFileSync(path.join(src, 'main.cgi'), `main ${version}`);
    const file = path.join(src, 'up.rdsu');
    await packUpdate({
      softwareVersion: version,
      script: path.join(src, 'install.sh'),
      modules: [parseModuleSpec(`main.cgi=1.0.01:${path.join(src, 'main.cgi')}`)],
      encryptionKeys: [to.toPublic()],
      signingKey: hostKey,
      output: file,
    });
    return file;
  }

  const input = (file: string, expectedVersion?: string) => ({
    db,
    layout: installLayout(layoutRoot),
    stateDir,
    file,
    agentKey,
    hostKey: hostKey.toPublic(),
    clock: systemClock,
    logger: silentLogger,
    ...(expectedVersion ? { expectedVersion } : {}),
  });

  async function codeOf(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      return (error as SecurityError).code;
    }
    return 'no error';
  }

  it('a good package: verified, its manifest read, no stage left, no journal, nothing installed', async () => {
    const result = await verifyUpdate(input(await pack('1.0.02-0'), '1.0.02-0'));
    expect(result.kind).toBe('verified');
    expect(result.manifest.softwareVersion).toBe('1.0.02-0');
    expect(fs.readdirSync(path.join(stateDir, 'stage'))).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM install_journal').get()).toEqual({ n: 0 });
    expect(readVersionReport(db).softwareVersion).toBe('1.0.00-1');
  });

  it.each([
    ['not for this agent', () => pack('1.0.02-0', hostKey), undefined, REFUSAL.PACKAGE_NOT_FOR_ME],
    ['a downgrade', () => pack('0.9.00-0'), undefined, REFUSAL.DOWNGRADE_REFUSED],
    ['not the version announced', () => pack('1.0.02-0'), '1.0.03-0', REFUSAL.PACKAGE_MISMATCH],
  ])('%s: refused with its code, no stage left', async (_what, make, expected, code) => {
    expect(await codeOf(verifyUpdate(input(await make(), expected)))).toBe(code);
    expect(fs.readdirSync(path.join(stateDir, 'stage'))).toEqual([]);
  });
});
