import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../store/db.js';
import { allReplied, verifyFleet } from './verify.js';

// The verify table's four reasons (docs/verify.md), each from the state a real host keeps:
// registered agents, a rollout with each agent's update result, and the version reports.
let dir: string;
let db: Db;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 's21-install-verify-'));
  db = openDb(dir);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const PUSHED_AT = '2026-11-02T10:00:00.000Z';
let seq = 0;

function agent(id: string): void {
  db.prepare('INSERT INTO agents (id, address, public_key, fingerprint, note, added_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    id,
    `${id.toLowerCase()}@example.test`,
    'KEY',
    `FP-${id}`,
    '',
    '2026-11-01T00:00:00.000Z',
  );
}

function rollout(agents: [string, string | null, string | null][]): void {
  db.prepare('INSERT INTO rollouts (id, package_id, target_version, file, created_at) VALUES (?, ?, ?, ?, ?)').run(
    'R1',
    'pkg-1',
    '1.0.02-0',
    '/x.rdsu',
    PUSHED_AT,
  );
  const add = db.prepare("INSERT INTO rollout_agents (rollout_id, agent_id, status, result, result_detail) VALUES ('R1', ?, 'sent', ?, ?)");
  for (const [id, result, detail] of agents) add.run(id, result, detail);
}

function report(id: string, version: string, receivedAt: string): void {
  seq++;
  db.prepare(
    `INSERT INTO version_reports (message_id, agent_id, kind, software_version, report_text, received_at, issued_at)
     VALUES (?, ?, 'update-result', ?, '', ?, ?)`,
  ).run(`m${seq}`, id, version, receivedAt, receivedAt);
}

const minutesAfterPush = (minutes: number) => new Date(Date.parse(PUSHED_AT) + minutes * 60_000).toISOString();

describe('verifyFleet: one reason per failing agent', () => {
  it('no-reply, rolled-back, refused, wrong-version and a pass, each for the one state that gives it', () => {
    for (const id of ['OK', 'SILENT', 'BACK', 'REFUSE', 'OTHER']) agent(id);
    rollout([
      ['OK', 'installed', null],
      ['SILENT', null, null],
      ['BACK', 'rolled-back', 'install script exited with status 1'],
      ['REFUSE', 'refused', 'DOWNGRADE_REFUSED: package version 1.0.02-0 is lower'],
      ['OTHER', 'installed', null],
    ]);
    report('OK', '1.0.02-0', minutesAfterPush(1));
    report('SILENT', '1.0.00-1', '2026-11-01T09:00:00.000Z'); // before the push: does not count
    report('BACK', '1.0.00-1', minutesAfterPush(2));
    report('REFUSE', '1.0.00-1', minutesAfterPush(3));
    report('OTHER', '1.0.01-0', minutesAfterPush(4));

    const result = verifyFleet(db, {});
    const byId = Object.fromEntries(result.agents.map((a) => [a.agentId, a]));
    expect(result.target).toBe('1.0.02-0');
    expect(result.rolloutId).toBe('R1');
    expect(byId.OK).toMatchObject({ failed: false, reason: null, version: null });
    expect(byId.SILENT).toMatchObject({ failed: true, reason: 'no-reply' });
    expect(byId.BACK).toMatchObject({ failed: true, reason: 'rolled-back', detail: 'install script exited with status 1' });
    expect(byId.REFUSE).toMatchObject({ failed: true, reason: 'refused', detail: 'DOWNGRADE_REFUSED: package version 1.0.02-0 is lower' });
    expect(byId.OTHER).toMatchObject({ failed: true, reason: 'wrong-version' });
    expect(result.failed).toBe(4);
    expect(allReplied(result)).toBe(false);
  });

  it('the newest report after the push decides: a later right version passes a rolled-back agent', () => {
    agent('A1');
    rollout([['A1', 'rolled-back', 'install script exited with status 1']]);
    report('A1', '1.0.00-1', minutesAfterPush(1));
    expect(verifyFleet(db, {}).agents[0]).toMatchObject({ failed: true, reason: 'rolled-back' });
    report('A1', '1.0.02-0', minutesAfterPush(5));
    const result = verifyFleet(db, {});
    expect(result.agents[0]).toMatchObject({ failed: false, reason: null });
    expect(result.failed).toBe(0);
    expect(allReplied(result)).toBe(true);
  });

  it('with --target and no rollout for it: any other version is wrong-version, no report is no-reply', () => {
    agent('A1');
    agent('A2');
    report('A1', '1.0.00-1', minutesAfterPush(1));
    const result = verifyFleet(db, { target: '1.0.09-0' });
    expect(result.rolloutId).toBeNull();
    expect(result.agents.map((a) => [a.agentId, a.reason])).toEqual([
      ['A1', 'wrong-version'],
      ['A2', 'no-reply'],
    ]);
  });
});
