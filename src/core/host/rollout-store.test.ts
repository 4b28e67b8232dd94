import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endItem, enqueue, rolloutMail } from '../outbox/outbox.js';
import { type Db, openDb } from '../store/db.js';
import { addAgents, createRollout, listRollouts, rolloutAgents } from './rollout-store.js';

let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'i10v-rollouts-unit-'));
  db = openDb(dir);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function rollout(id: string, createdAt: string, agents: [string, string, string | null, string?][]): void {
  db.prepare('INSERT INTO rollouts (id, package_id, target_version, file, created_at) VALUES (?, ?, ?, ?, ?)').run(
    id,
    `pkg-${id}`,
    '1.0.02-0',
    '/x.rdsu',
    createdAt,
  );
  const add = db.prepare('INSERT INTO rollout_agents (rollout_id, agent_id, status, result, state) VALUES (?, ?, ?, ?, ?)');
  for (const [agent, status, result, state] of agents) add.run(id, agent, status, result, state ?? 'pending');
}

describe('listRollouts', () => {
  it('counts every status and result, newest first', () => {
    rollout('R1', '2026-11-01T10:00:00.000Z', [['A1', 'sent', 'installed']]);
    rollout('R2', '2026-11-02T10:00:00.000Z', [
      ['A1', 'sent', 'installed'],
      ['A2', 'sent', 'rolled-back'],
      ['A3', 'sent', 'refused'],
      ['A4', 'send-failed', null],
      ['A5', 'sent', null],
      ['A6', 'queued', null],
      // rollouts in waves: silent past every re-send; held for the install window; a re-send answered
      ['A7', 'sent', null, 'timed-out'],
      ['A8', 'sent', 'deferred', 'deferred'],
      ['A9', 'sent', 'already-installed', 'installed'],
    ]);
    rollout('R0', '2026-10-01T10:00:00.000Z', []);
    expect(listRollouts(db)).toEqual([
      {
        id: 'R2',
        packageId: 'pkg-R2',
        targetVersion: '1.0.02-0',
        createdAt: '2026-11-02T10:00:00.000Z',
        agents: 9,
        sent: 7,
        installed: 2,
        failed: 4,
        pending: 3,
        state: 'running',
      },
      {
        id: 'R1',
        packageId: 'pkg-R1',
        targetVersion: '1.0.02-0',
        createdAt: '2026-11-01T10:00:00.000Z',
        agents: 1,
        sent: 1,
        installed: 1,
        failed: 0,
        pending: 0,
        state: 'running',
      },
      {
        id: 'R0',
        packageId: 'pkg-R0',
        targetVersion: '1.0.02-0',
        createdAt: '2026-10-01T10:00:00.000Z',
        agents: 0,
        sent: 0,
        installed: 0,
        failed: 0,
        pending: 0,
        state: 'running',
      },
    ]);
  });

  it('no rollouts: an empty list', () => {
    expect(listRollouts(db)).toEqual([]);
  });
});

describe('send state follows the outbox item (migration 009)', () => {
  const recipe = {
    messageId: '<m1@x>',
    kind: 'update',
    ref: 'R9:A1',
    rolloutId: 'R9',
    agentId: 'A1',
    envelope: { from: 'h@x', to: ['a@x'] },
  };
  const status = () => rolloutAgents(db, 'R9').map((a) => [a.agentId, a.status, a.error]);

  it('ending the item marks send-failed with the reason; nothing else is touched', () => {
    createRollout(db, { id: 'R9', packageId: 'p', targetVersion: '1.0.02-0', file: '/x.rdsu', createdAt: '2026-11-01T10:00:00.000Z' });
    addAgents(db, 'R9', ['A1', 'A2']);
    const seq = enqueue(db, recipe, new Date('2026-11-01T10:00:00.000Z')) as number;
    expect(endItem(db, seq, 'dropped', 'agent removed', new Date('2026-11-01T11:00:00.000Z'))).toBe(true);
    expect(status()).toEqual([
      ['A1', 'send-failed', 'agent removed'],
      ['A2', 'queued', null],
    ]);
  });

  it('marking the item sent marks the agent sent', () => {
    createRollout(db, { id: 'R9', packageId: 'p', targetVersion: '1.0.02-0', file: '/x.rdsu', createdAt: '2026-11-01T10:00:00.000Z' });
    addAgents(db, 'R9', ['A1']);
    const seq = enqueue(db, recipe, new Date('2026-11-01T10:00:00.000Z')) as number;
    db.prepare('UPDATE outbox SET sent_at = ? WHERE seq = ?').run('2026-11-01T10:01:00.000Z', seq);
    expect(status()).toEqual([['A1', 'sent', null]]);
    expect(rolloutMail(db, 'R9').get('A1')).toEqual({ sent: true });
  });
});
