// The audit chain and its verifier, in-process on a real SQLite store (in memory): a clean
// log verifies; each kind of tampering made directly in the tables (edit, delete, reorder,
// truncate, a forged or deleted checkpoint) is found and named by its entry number.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKeyPair } from '../crypto/keys.js';
import { type Db, migrate } from '../store/db.js';
import { writeCheckpoint } from './checkpoint.js';
import { commandEntry } from './command-entry.js';
import { canonicalJson, LIMITS, linkHash, ZERO_HEAD } from './entry.js';
import { registerAuditSigner, sealPending } from './signer.js';
import { AUDIT_CHECKPOINT_EVERY, appendAudit, auditRows, checkpointRows, lastCheckpointCount, setAuditNode } from './store.js';
import { verifyAudit } from './verify.js';

let key: openpgp.PrivateKey;
let other: openpgp.PrivateKey;

beforeAll(async () => {
  const read = async () => openpgp.readPrivateKey({ armoredKey: (await generateKeyPair('HOST', 'host@example.com')).privateArmored });
  [key, other] = await Promise.all([read(), read()]);
  setAuditNode('HOST');
});

function newDb(): Db {
  const db = new Database(':memory:');
  migrate(db);
  return db;
}

const T0 = Date.parse('2026-12-01T00:00:00Z');
const at = (i: number) => new Date(T0 + i * 60_000);

/** n entries; a checkpoint after each of `checkpointsAt` (entry counts). */
async function logOf(n: number, checkpointsAt: readonly number[] = []): Promise<Db> {
  const db = newDb();
  for (let i = 1; i <= n; i++) {
    appendAudit(db, { action: 'push-all', agents: [`AGENT${i}`], detail: { i } }, at(i));
    if (checkpointsAt.includes(i)) await writeCheckpoint(db, key, 'HOST', at(i));
  }
  return db;
}

const verify = (db: Db, keys = [key.toPublic()]) => verifyAudit(auditRows(db), checkpointRows(db), keys);

describe('the audit chain', () => {
  it('a clean log verifies: every entry chains, every checkpoint signed', async () => {
    const v = await verify(await logOf(6, [2, 5]));
    expect(v.problem).toBeUndefined();
    expect(v).toMatchObject({ entries: 6, checkpoints: 2, unsealed: 1 });
  });

  it('entries are canonical JSON and the head is the RFC 6962-style link of the previous one', async () => {
    const db = await logOf(2);
    const rows = [...auditRows(db)];
    for (const r of rows) expect(canonicalJson(JSON.parse(r.entry))).toBe(r.entry);
    expect(rows[0]?.hash).toBe(linkHash(ZERO_HEAD, rows[0]?.entry ?? ''));
    expect(rows[1]?.hash).toBe(linkHash(rows[0]?.hash ?? '', rows[1]?.entry ?? ''));
  });

  it('an edited entry is named', async () => {
    const db = await logOf(5, [5]);
    db.prepare("UPDATE audit_log SET entry = replace(entry, 'AGENT3', 'AGENT9') WHERE seq = 3").run();
    expect((await verify(db)).problem).toEqual({ entry: 3, reason: 'its content does not match its hash (edited)' });
  });

  it('an edit with every later hash recomputed is caught by the checkpoint, naming where its cover starts', async () => {
    const db = await logOf(6, [2, 6]);
    db.prepare("UPDATE audit_log SET entry = replace(entry, 'AGENT4', 'AGENT9') WHERE seq = 4").run();
    let prev = (db.prepare('SELECT hash FROM audit_log WHERE seq = 3').get() as { hash: string }).hash;
    for (const r of [...auditRows(db)].slice(3)) {
      prev = linkHash(prev, r.entry);
      db.prepare('UPDATE audit_log SET hash = ? WHERE seq = ?').run(prev, r.seq);
    }
    expect((await verify(db)).problem?.entry).toBe(3);
  });

  it('a deleted entry is named', async () => {
    const db = await logOf(5);
    db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    expect((await verify(db)).problem?.entry).toBe(2);
  });

  it('two swapped entries are named at the first', async () => {
    const db = await logOf(5);
    const [a, b] = [3, 4].map((s) => db.prepare('SELECT entry, hash, at FROM audit_log WHERE seq = ?').get(s) as Record<string, string>);
    const put = db.prepare('UPDATE audit_log SET entry = ?, hash = ?, at = ? WHERE seq = ?');
    put.run(b?.entry, b?.hash, b?.at, 3);
    put.run(a?.entry, a?.hash, a?.at, 4);
    expect((await verify(db)).problem).toEqual({ entry: 3, reason: 'it holds entry 4 (reordered or moved)' });
  });

  it('a truncated log is named at its first missing entry', async () => {
    const db = await logOf(5, [5]);
    db.prepare('DELETE FROM audit_log WHERE seq >= 4').run();
    expect((await verify(db)).problem?.entry).toBe(4);
  });

  it('a checkpoint signed by another key is forged', async () => {
    const db = await logOf(4, [2, 4]);
    const forged = await openpgp.sign({ message: await openpgp.createMessage({ binary: new Uint8Array([1]) }), signingKeys: other });
    db.prepare('UPDATE audit_checkpoints SET signed = ? WHERE count = 2').run(forged);
    expect((await verify(db)).problem?.entry).toBe(2);
    expect((await verify(db)).problem?.reason).toMatch(/^the checkpoint at entry 2 is forged/);
  });

  it('a deleted checkpoint is missed by the next entry', async () => {
    const db = await logOf(4, [2]);
    db.prepare('DELETE FROM audit_checkpoints WHERE count = 2').run();
    expect((await verify(db)).problem?.entry).toBe(2);
  });

  it('fields are bounded: hostile text goes in as data, cut', () => {
    const db = newDb();
    const e = appendAudit(db, { action: 'x', agents: ['\u001b[2J'.repeat(500)], detail: { note: 'n'.repeat(10_000) } }, at(1));
    expect(e.agents[0]?.length).toBe(128);
    expect(String(e.detail.note).length).toBe(LIMITS.text);
  });
});

describe("a command's entry", () => {
  it('names the agents asked for, keeps the flags, and never a flag whose name says secret', async () => {
    const options = { agents: 'A1, A2', dryRun: true, keyPassphrase: 's3cret', smtpPassword: 'pw', args: ['x.csv'] };
    const e = await commandEntry('push-all', 'push-all', options, 3, undefined);
    expect(e).toEqual({ action: 'push-all', agents: ['A1', 'A2'], status: 3, detail: { agents: 'A1, A2', dryRun: 'true', arg1: 'x.csv' } });
  });
});

describe('checkpoints during a long command', () => {
  it('a loop pass seals what is unsigned; AUDIT_CHECKPOINT_EVERY unsigned entries ask for one on their own', async () => {
    const db = newDb();
    registerAuditSigner(db, 'HOST', async () => key);
    for (let i = 1; i < AUDIT_CHECKPOINT_EVERY; i++) appendAudit(db, { action: 'install-result' }, at(i));
    await sealPending();
    expect(lastCheckpointCount(db)).toBe(AUDIT_CHECKPOINT_EVERY - 1);
    const target = 2 * AUDIT_CHECKPOINT_EVERY - 1;
    for (let i = AUDIT_CHECKPOINT_EVERY; i <= target; i++) appendAudit(db, { action: 'install-result' }, at(i));
    await vi.waitFor(() => expect(lastCheckpointCount(db)).toBe(target), { timeout: 10_000, interval: 20 });
    expect((await verify(db)).problem).toBeUndefined();
    db.close();
  });
});

describe('the audit chain (property)', () => {
  it('any edit, delete or swap at entry k of a log of n is named k', async () => {
    const reached = { edit: 0, delete: 0, swap: 0 };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 12 }), fc.nat(), fc.constantFrom('edit', 'delete', 'swap'), async (n, pick, kind) => {
        const db = await logOf(n);
        const k = 1 + (pick % (n - 1));
        if (kind === 'edit') db.prepare("UPDATE audit_log SET entry = replace(entry, 'push-all', 'push-alL') WHERE seq = ?").run(k);
        if (kind === 'delete') db.prepare('DELETE FROM audit_log WHERE seq = ?').run(k);
        if (kind === 'swap') {
          const rows = [k, k + 1].map(
            (s) => db.prepare('SELECT entry, hash, at FROM audit_log WHERE seq = ?').get(s) as Record<string, string>,
          );
          const put = db.prepare('UPDATE audit_log SET entry = ?, hash = ?, at = ? WHERE seq = ?');
          put.run(rows[1]?.entry, rows[1]?.hash, rows[1]?.at, k);
          put.run(rows[0]?.entry, rows[0]?.hash, rows[0]?.at, k + 1);
        }
        reached[kind as keyof typeof reached] += 1;
        expect((await verify(db)).problem?.entry).toBe(k);
      }),
      { numRuns: 120 },
    );
    expect(Math.min(...Object.values(reached))).toBeGreaterThan(10);
  }, 60_000); // CPU-bound (a fresh store and a signed checkpoint per case): no 5 s default under load
});
