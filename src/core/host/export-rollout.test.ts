// rollout-store's two export-update functions: which rollout an export counts in, and what
// recording it writes (today's columns: status, sent_at, message_id, error).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../store/db.js';
import {
  addAgents,
  agentRollouts,
  createRollout,
  exportRollout,
  markSendFailed,
  type Rollout,
  recordExport,
  recordResult,
} from './rollout-store.js';

let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'i12-export-rollout-'));
  db = openDb(dir);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const rollout = (id: string, packageId: string, createdAt: string): Rollout => ({
  id,
  packageId,
  targetVersion: '1.0.02-0',
  file: '/x.rdsu',
  createdAt,
});

describe('exportRollout', () => {
  it('without --rollout: the latest rollout of the package that includes the agent, else none', () => {
    createRollout(db, rollout('R1', 'P', '2026-11-01T10:00:00.000Z'));
    createRollout(db, rollout('R2', 'P', '2026-11-02T10:00:00.000Z'));
    createRollout(db, rollout('R3', 'P', '2026-11-03T10:00:00.000Z'));
    createRollout(db, rollout('R4', 'OTHER', '2026-11-04T10:00:00.000Z'));
    addAgents(db, 'R1', ['A1']);
    addAgents(db, 'R2', ['A1']);
    addAgents(db, 'R3', ['A2']); // newer, but without A1
    addAgents(db, 'R4', ['A1']); // newer, but another package
    expect(exportRollout(db, 'P', 'A1')?.id).toBe('R2');
    expect(exportRollout(db, 'P', 'A9')).toBeUndefined();
    expect(exportRollout(db, 'NEW', 'A1')).toBeUndefined();
  });

  it('--rollout: that one when it rolls out the package, whoever is in it; else exit 2 with the code', () => {
    createRollout(db, rollout('R1', 'P', '2026-11-01T10:00:00.000Z'));
    expect(exportRollout(db, 'P', 'A9', 'R1')?.id).toBe('R1');
    expect(() => exportRollout(db, 'OTHER', 'A9', 'R1')).toThrow(expect.objectContaining({ code: 'ROLLOUT_OTHER_PACKAGE', exitCode: 2 }));
    expect(() => exportRollout(db, 'P', 'A9', 'R0')).toThrow(expect.objectContaining({ code: 'UNKNOWN_ROLLOUT', exitCode: 2 }));
  });
});

describe('recordExport', () => {
  it('a new rollout: created, the agent sent at that time with the message id', () => {
    recordExport(db, rollout('R1', 'P', '2026-11-01T10:00:00.000Z'), 'A1', '2026-11-01T10:00:01.000Z', '<id@example.com>');
    const rows = db.prepare('SELECT * FROM rollout_agents').all();
    expect(rows).toEqual([
      expect.objectContaining({
        rollout_id: 'R1',
        agent_id: 'A1',
        status: 'sent',
        sent_at: '2026-11-01T10:00:01.000Z',
        message_id: '<id@example.com>',
        error: null,
      }),
    ]);
  });

  it('an agent already in the rollout: sent again, the send error cleared, an earlier result kept until it reports', () => {
    const r = rollout('R1', 'P', '2026-11-01T10:00:00.000Z');
    createRollout(db, r);
    addAgents(db, 'R1', ['A1']);
    markSendFailed(db, 'R1', 'A1', 'connection refused', '<old@example.com>');
    recordResult(db, {
      rolloutId: 'R1',
      agentId: 'A1',
      outcome: 'refused',
      version: '1.0.00-1',
      detail: 'expired',
      at: '2026-11-01T11:00:00.000Z',
      log: null,
      logNote: null,
    });
    recordExport(db, r, 'A1', '2026-11-02T10:00:00.000Z', '<new@example.com>');
    expect(agentRollouts(db, 'A1')).toEqual([
      expect.objectContaining({ rolloutId: 'R1', status: 'sent', sentAt: '2026-11-02T10:00:00.000Z', error: null, result: 'refused' }),
    ]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM rollouts').get()).toEqual({ n: 1 });
  });
});
