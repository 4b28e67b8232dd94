// An exported update in a rollout in waves (migration 010): recordExport makes the agent
// `sent` like its update mail would (one more attempt, deadline = the end of the file's
// validity, which export-update passes), so the next `rollout advance` does not mail it the update as well; a re-export
// after a failure is a new try; an installed agent stays installed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../store/db.js';
import { addAgents, createRollout, type Rollout, recordExport } from './rollout-store.js';
import { recordResultState } from './rollout-waves-store.js';

let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-export-state-'));
  db = openDb(dir);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const R1: Rollout = { id: 'R1', packageId: 'P', targetVersion: '1.0.02-0', file: '/x.rdsu', createdAt: '2026-11-01T10:00:00.000Z' };
const row = () =>
  db.prepare("SELECT state, reason, attempts, deadline FROM rollout_agents WHERE rollout_id = 'R1' AND agent_id = 'A1'").get() as {
    state: string;
    reason: string | null;
    attempts: number;
    deadline: string | null;
  };
const result = (outcome: 'installed' | 'rolled-back') =>
  recordResultState(db, {
    rolloutId: 'R1',
    agentId: 'A1',
    outcome,
    version: outcome === 'installed' ? '1.0.02-0' : '1.0.01-1',
    at: '2026-11-01T12:00:00.000Z',
  });

describe('recordExport in a rollout in waves', () => {
  it("a new rollout: the agent is sent, one attempt, deadline the file's validity", () => {
    recordExport(db, R1, 'A1', { sentAt: '2026-11-01T10:00:01.000Z', messageId: '<id@example.com>', deadline: '2026-12-01T10:00:01.000Z' });
    expect(row()).toEqual({ state: 'sent', reason: null, attempts: 1, deadline: '2026-12-01T10:00:01.000Z' });
  });

  it('a pending agent of an existing rollout (its mail never went): sent, one attempt', () => {
    createRollout(db, R1);
    addAgents(db, 'R1', ['A1']);
    expect(row()).toMatchObject({ state: 'pending', attempts: 0 });
    recordExport(db, R1, 'A1', { sentAt: '2026-11-01T10:30:00.000Z', messageId: '<id@example.com>', deadline: '2026-12-01T10:30:00.000Z' });
    expect(row()).toEqual({ state: 'sent', reason: null, attempts: 1, deadline: '2026-12-01T10:30:00.000Z' });
  });

  it('after a rolled-back install a re-export is a new try; after an install the agent stays installed', () => {
    recordExport(db, R1, 'A1', { sentAt: '2026-11-01T10:00:00.000Z', messageId: '<a@example.com>', deadline: '2026-12-01T10:00:00.000Z' });
    result('rolled-back');
    expect(row()).toMatchObject({ state: 'failed', reason: 'rolled-back' });
    recordExport(db, R1, 'A1', { sentAt: '2026-11-02T10:00:00.000Z', messageId: '<b@example.com>', deadline: '2026-12-02T10:00:00.000Z' });
    expect(row()).toEqual({ state: 'sent', reason: null, attempts: 2, deadline: '2026-12-02T10:00:00.000Z' });
    result('installed');
    recordExport(db, R1, 'A1', { sentAt: '2026-11-03T10:00:00.000Z', messageId: '<c@example.com>', deadline: '2026-12-03T10:00:00.000Z' });
    expect(row()).toMatchObject({ state: 'installed', attempts: 3, deadline: null });
  });
});
