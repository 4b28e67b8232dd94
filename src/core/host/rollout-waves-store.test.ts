// The rollout store's waves and states on a real SQLite in a temp dir: the outbox triggers
// (queue, send, end, requeue, hold), results deciding states, what is due, the rate window,
// the operator's moves, and migration 010 deriving states for rollouts made before it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import {
  dropRolloutMail,
  endItem,
  enqueue,
  holdRolloutMail,
  listOutbox,
  pendingOutbox,
  requeueItem,
  rolloutMailInWindow,
} from '../outbox/outbox.js';
import { type Db, migrate, openDb } from '../store/db.js';
import { MIGRATIONS } from '../store/migrations.js';
import { planWaves } from './rollout-plan.js';
import { createRollout } from './rollout-store.js';
import {
  DEFAULT_SETTINGS,
  dueAgents,
  moveRollout,
  passAgents,
  recordPlan,
  recordResultState,
  rolloutAgentStates,
  rolloutRecord,
  stillDue,
} from './rollout-waves-store.js';

let dir: string;
let db: Db;
const T0 = new Date('2026-12-01T10:00:00.000Z');
let mailSeq = 0;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 's22-waves-store-'));
  db = openDb(dir);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function rollout(agents: string[], waves = '1,100%', settings: Partial<typeof DEFAULT_SETTINGS> = {}): void {
  createRollout(db, { id: 'R1', packageId: 'P1', targetVersion: '1.0.02-0', file: '/x.rdsu', createdAt: T0.toISOString() });
  const shares = waves.split(',').map((s) => (s.endsWith('%') ? { percent: Number(s.slice(0, -1)) } : { count: Number(s) }));
  const plan = planWaves(agents, shares);
  recordPlan(db, 'R1', { ...DEFAULT_SETTINGS, ...settings, waves: Math.max(...plan.map((p) => p.wave)) }, plan);
}

function queue(agent: string, at = T0): number {
  mailSeq++;
  return enqueue(
    db,
    {
      messageId: `<m${mailSeq}@x>`,
      kind: 'update',
      rolloutId: 'R1',
      agentId: agent,
      envelope: { from: 'h@x', to: [`${agent}@x`] },
      raw: Buffer.from('x'),
    },
    at,
  ) as number;
}

const send = (seq: number, at: Date) => db.prepare('UPDATE outbox SET sent_at = ? WHERE seq = ?').run(at.toISOString(), seq);
const stateOf = (agent: string) => rolloutAgentStates(db, 'R1').find((a) => a.agentId === agent);
const plus = (ms: number) => new Date(T0.getTime() + ms);

describe('the outbox triggers keep the state with the mail', () => {
  it('queue counts the attempt, send makes it sent with a deadline, a re-send moves the deadline', () => {
    rollout(['A', 'B'], '100%', { timeoutMs: 60_000 });
    const seq = queue('A');
    expect(stateOf('A')).toMatchObject({ state: 'pending', attempts: 1, sentAt: null });
    expect(passAgents(db, 'R1')[0]?.deadline).toBeNull();
    send(seq, plus(1000));
    expect(stateOf('A')).toMatchObject({ state: 'sent', attempts: 1, sentAt: plus(1000).toISOString() });
    expect(passAgents(db, 'R1')[0]?.deadline).toBe(plus(61_000).getTime());
    const again = queue('A', plus(70_000));
    expect(passAgents(db, 'R1')[0]).toMatchObject({ attempts: 2, deadline: null, state: 'sent' });
    send(again, plus(71_000));
    expect(passAgents(db, 'R1')[0]?.deadline).toBe(plus(131_000).getTime());
  });

  it('a mail ended unsent fails a pending agent (send-failed); back in the queue it is pending again', () => {
    rollout(['A'], '100%');
    const seq = queue('A');
    endItem(db, seq, 'failed', '550 no such user', T0);
    expect(stateOf('A')).toMatchObject({ state: 'failed', reason: 'send-failed' });
    requeueItem(db, seq);
    expect(stateOf('A')).toMatchObject({ state: 'pending', reason: null });
  });

  it('held mail is neither queued nor ended; an abort skips pending agents and drops their mail', () => {
    rollout(['A', 'B'], '100%');
    queue('A');
    expect(holdRolloutMail(db, 'R1', true, T0)).toBe(1);
    expect(pendingOutbox(db)).toEqual([]); // no flush takes it
    expect(listOutbox(db, undefined).map((e) => e.state)).toEqual(['held']);
    expect(stateOf('A')?.state).toBe('pending');
    expect(dueAgents(db, 'R1', 10)).toEqual(['B']); // A has its (held) mail
    expect(holdRolloutMail(db, 'R1', false, T0)).toBe(1);
    expect(pendingOutbox(db).map((i) => i.agentId)).toEqual(['A']);
    moveRollout(db, 'R1', 'abort');
    expect(dropRolloutMail(db, 'R1', 'rollout R1 aborted', T0)).toBe(1);
    expect(rolloutAgentStates(db, 'R1').map((a) => [a.agentId, a.state])).toEqual([
      ['A', 'skipped'],
      ['B', 'skipped'],
    ]);
  });
});

describe('what is due', () => {
  it('pending agents of the open waves with no mail, in plan order; a wave opens with current_wave', () => {
    rollout(['A', 'B', 'C'], '1,100%');
    expect(dueAgents(db, 'R1', 10)).toEqual(['A']);
    expect(stillDue(db, 'R1', 'B', undefined)).toBe(false);
    queue('A');
    expect(dueAgents(db, 'R1', 10)).toEqual([]);
    expect(stillDue(db, 'R1', 'A', undefined)).toBe(false);
    db.prepare("UPDATE rollouts SET current_wave = 2 WHERE id = 'R1'").run();
    expect(dueAgents(db, 'R1', 1)).toEqual(['B']);
    moveRollout(db, 'R1', 'pause');
    expect(dueAgents(db, 'R1', 10)).toEqual([]);
  });

  it('a re-send is due only while the agent is still silent after the same attempts', () => {
    rollout(['A'], '100%', { timeoutMs: 1000 });
    send(queue('A'), T0);
    const later = plus(5000).toISOString();
    expect(stillDue(db, 'R1', 'A', { attempts: 1, now: later })).toBe(true);
    expect(stillDue(db, 'R1', 'A', { attempts: 1, now: plus(500).toISOString() })).toBe(false);
    queue('A', plus(5000)); // another pass re-sent it meanwhile
    expect(stillDue(db, 'R1', 'A', { attempts: 1, now: later })).toBe(false);
  });

  it('the rate window counts sent-in-window and queued-unsent mail of the rollout', () => {
    rollout(['A', 'B', 'C', 'D'], '100%');
    send(queue('A', T0), T0);
    send(queue('B', plus(30_000)), plus(30_000));
    queue('C', plus(50_000));
    expect(rolloutMailInWindow(db, 'R1', T0)).toBe(3);
    expect(rolloutMailInWindow(db, 'R1', plus(10_000))).toBe(2);
    expect(rolloutMailInWindow(db, 'R1', plus(40_000))).toBe(1); // only C, still queued
  });
});

describe('results decide the state', () => {
  const result = (agent: string, outcome: string, extra: Partial<Parameters<typeof recordResultState>[1]> = {}) =>
    recordResultState(db, { rolloutId: 'R1', agentId: agent, outcome, version: '1.0.02-0', at: plus(1000).toISOString(), ...extra });

  it('installed, rolled-back, a health check, a wrong version; a late result replaces timed-out; skipped stays', () => {
    rollout(['A', 'B', 'C', 'D', 'E', 'F'], '100%');
    result('A', 'installed');
    result('B', 'rolled-back', { version: '1.0.01-0' });
    result('C', 'rolled-back', { version: '1.0.01-0', reasonCode: 'HEALTH_CHECK_FAILED' });
    result('D', 'installed', { version: '1.0.03-0' });
    db.prepare("UPDATE rollout_agents SET state = 'timed-out' WHERE agent_id = 'E'").run();
    result('E', 'installed');
    db.prepare("UPDATE rollout_agents SET state = 'skipped' WHERE agent_id = 'F'").run();
    result('F', 'installed');
    expect(rolloutAgentStates(db, 'R1').map((a) => [a.agentId, a.state, a.reason])).toEqual([
      ['A', 'installed', null],
      ['B', 'failed', 'rolled-back'],
      ['C', 'failed', 'health-check-failed'],
      ['D', 'failed', 'wrong-version'],
      ['E', 'installed', null],
      ['F', 'skipped', null],
    ]);
    expect(stateOf('A')?.reportedAt).toBe(plus(1000).toISOString());
  });

  it('deferred: the deadline is the install window plus the timeout; it never undoes a final result', () => {
    rollout(['A', 'B'], '100%', { timeoutMs: 60_000 });
    send(queue('A'), T0);
    result('A', 'deferred', { version: '1.0.01-0', deferredUntil: plus(3_600_000).toISOString() });
    expect(passAgents(db, 'R1')[0]).toMatchObject({ state: 'deferred', deadline: plus(3_660_000).getTime() });
    result('B', 'installed');
    result('B', 'deferred', { deferredUntil: plus(3_600_000).toISOString() });
    expect(stateOf('B')?.state).toBe('installed');
  });
});

describe('pause, resume, abort', () => {
  it('resume counts the budgets from the failures and timeouts so far; illegal moves are usage errors', () => {
    rollout(['A', 'B', 'C'], '100%');
    db.prepare("UPDATE rollout_agents SET state = 'failed' WHERE agent_id IN ('A', 'B')").run();
    db.prepare("UPDATE rollout_agents SET state = 'timed-out' WHERE agent_id = 'C'").run();
    db.prepare("UPDATE rollouts SET state = 'halted', halt_reason = 'x' WHERE id = 'R1'").run();
    const r = moveRollout(db, 'R1', 'resume');
    expect(r).toMatchObject({ state: 'running', failureBase: 2, timeoutBase: 1, haltReason: null });
    db.prepare("UPDATE rollouts SET state = 'done' WHERE id = 'R1'").run();
    for (const move of ['pause', 'resume', 'abort'] as const) {
      const error = (() => {
        try {
          moveRollout(db, 'R1', move);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).code).toBe('ROLLOUT_STATE');
    }
    expect(() => rolloutRecord(db, 'NOPE')).toThrow("no rollout 'NOPE'");
  });
});

describe('migration 010', () => {
  it('a rollout made before waves: one wave, states from what its agents have, done when all are final', () => {
    db.close();
    const file = path.join(dir, 'old.db');
    const old = new Database(file);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version < 10)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, T0.toISOString());
    }
    const addRollout = old.prepare(
      "INSERT INTO rollouts (id, package_id, target_version, file, created_at) VALUES (?, 'P', '1.0.02-0', '/x', ?)",
    );
    addRollout.run('OLD1', T0.toISOString());
    addRollout.run('OLD2', T0.toISOString());
    const add = old.prepare(
      'INSERT INTO rollout_agents (rollout_id, agent_id, status, sent_at, result, result_version) VALUES (?, ?, ?, ?, ?, ?)',
    );
    add.run('OLD1', 'A', 'sent', T0.toISOString(), 'installed', '1.0.02-0');
    add.run('OLD1', 'B', 'sent', T0.toISOString(), 'rolled-back', '1.0.01-0');
    add.run('OLD1', 'C', 'sent', T0.toISOString(), 'installed', '1.0.09-0');
    add.run('OLD2', 'A', 'sent', T0.toISOString(), null, null);
    add.run('OLD2', 'B', 'queued', null, null, null);
    add.run('OLD2', 'C', 'send-failed', null, null, null);
    old
      .prepare(
        "INSERT INTO outbox (message_id, kind, env_from, env_to, created_at, rollout_id, agent_id, sent_at) VALUES ('<1@x>', 'update', 'h', 'a', ?, 'OLD2', 'A', ?)",
      )
      .run(T0.toISOString(), T0.toISOString());
    migrate(old);
    db = old;
    expect(rolloutRecord(db, 'OLD1')).toMatchObject({ state: 'done', waves: 1, currentWave: 1 });
    expect(rolloutRecord(db, 'OLD2')).toMatchObject({ state: 'running', waves: 1 });
    expect(rolloutAgentStates(db, 'OLD1').map((a) => [a.agentId, a.state, a.reason])).toEqual([
      ['A', 'installed', null],
      ['B', 'failed', 'rolled-back'],
      ['C', 'failed', 'wrong-version'],
    ]);
    expect(rolloutAgentStates(db, 'OLD2').map((a) => [a.agentId, a.state, a.reason, a.attempts])).toEqual([
      ['A', 'sent', null, 1],
      ['B', 'pending', null, 0],
      ['C', 'failed', 'send-failed', 0],
    ]);
    expect(passAgents(db, 'OLD2')[0]?.deadline).toBe(T0.getTime() + 7_200_000);
  });
});
