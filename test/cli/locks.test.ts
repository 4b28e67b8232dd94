// Locks by resource (docs/locks.md), on the embedded maildir:// backend with the real
// binary: request-versions, request-counters, inbox, verify and push-all run at once
// against one host whose mailbox holds its agents' replies. Every reply is taken in once
// (none quarantined as REPLAYED, none left), and every outbox item goes out once. Then
// verify: it sends the fault acks it queues, and it waits by the injected clock.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as verifyRun } from '../../src/commands/verify.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, ROOT, rds, rdsExpect, tempDir } from '../support/cli.js';
import { writeInstallScript } from '../support/fleet.js';
import { mostHoldersAtOnce } from '../support/holders.js';

const execFileP = promisify(execFile);

let root: string;
let host: HostNode;
const agents: AgentNode[] = [];
let pkg: string;

const run = (node: { config: string }, expected: number, ...args: string[]) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root });
const mailRoot = () => path.join(root, 'mail');
const hostMailbox = () => path.join(mailRoot(), 'host@example.com');

function hostDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(path.join(host.dir, 'state', 'state.db'), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Message-ID of every mail file under DIR (every folder), one entry per file. */
function messageIds(dir: string): string[] {
  const ids: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const parent = path.basename(e.parentPath);
    if (!e.isFile() || !['new', 'cur'].includes(parent)) continue;
    const head = fs.readFileSync(path.join(e.parentPath, e.name), 'utf8').split(/\r?\n\r?\n/)[0] ?? '';
    const id = /^message-id:\s*(\S+)/im.exec(head)?.[1];
    if (id) ids.push(id);
  }
  return ids;
}

const filesIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).length : 0);

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-s21-locks-');
  host = await initHost(root);
  for (const n of [1, 2, 3]) agents.push(await initAgent(root, host, { id: `AGENT000000${n}` }));
  pkg = path.join(root, 'up.rdsu');
  const module = path.join(root, 'main.cgi');
  fs.writeFileSync(module, 'main 1.0.02\n');
  await run(
    host,
    0,
    'pack-update',
    '--software-version',
    '1.0.02-0',
    '--script',
    writeInstallScript(root),
    '--module',
    `main.cgi=1.0.02:${module}`,
    '-o',
    pkg,
  );
  // three requests to each agent, answered: nine replies wait in the host's mailbox
  await run(host, 0, 'request-versions');
  await run(host, 0, 'request-counters');
  await run(host, 0, 'request-versions');
  for (const a of agents) await run(a, 0, 'poll-mail');
}, 180_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('host commands at once on one mailbox and one outbox', () => {
  it('each reply is taken in once, none quarantined, each outbox item sent once', async () => {
    expect(filesIn(path.join(hostMailbox(), 'new'))).toBe(9);
    const start = (...args: string[]) => rds(['--config', host.config, ...args], { cwd: root, timeoutMs: 120_000 });
    // A pass that found another inbox/verify pass holding the lock exits 3 with the busy line
    // (which passes overlap is up to the scheduler); every other run gives its one code.
    const BUSY = /^rds: another '(inbox|verify)' pass is running \(pid \d+\); try again later$/m;
    const runs = await Promise.all([
      start('request-versions', '--wait', '2s').then((r) => ({ what: 'request-versions --wait', r, code: 1, mayBeBusy: false })),
      start('request-counters', '--wait', '2s').then((r) => ({ what: 'request-counters --wait', r, code: 1, mayBeBusy: false })),
      start('inbox').then((r) => ({ what: 'inbox', r, code: 0, mayBeBusy: true })),
      start('inbox').then((r) => ({ what: 'inbox', r, code: 0, mayBeBusy: true })),
      start('verify', '--target', '1.0.00-1').then((r) => ({ what: 'verify', r, code: 0, mayBeBusy: true })),
      start('verify', '--target', '1.0.00-1', '--wait', '60s').then((r) => ({ what: 'verify --wait', r, code: 0, mayBeBusy: false })),
      start('push-all', pkg).then((r) => ({ what: 'push-all', r, code: 0, mayBeBusy: false })),
    ]);
    for (const { what, r, code, mayBeBusy } of runs) {
      const busy = mayBeBusy && BUSY.test(r.stderr);
      expect(r.code, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`).toBe(busy ? 3 : code);
      if (busy) expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
      else expect(r.stderr, what).not.toMatch(/this is a bug|\n\s+at |another '.*' pass is running/);
    }
    await run(host, 0, 'inbox'); // whatever a skipped pass left

    const quarantined = JSON.parse((await run(host, 0, '--json', 'quarantine', 'list')).stdout) as { quarantine: unknown[] };
    expect(quarantined.quarantine).toEqual([]);
    expect(filesIn(path.join(hostMailbox(), 'new')) + filesIn(path.join(hostMailbox(), 'cur'))).toBe(0);
    const processed = messageIds(path.join(hostMailbox(), '.rds-processed'));
    expect(processed).toHaveLength(9);
    expect(new Set(processed).size).toBe(9);
    hostDb((db) => {
      const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      expect(n('SELECT count(*) AS n FROM quarantine')).toBe(0);
      expect(n('SELECT count(*) AS n FROM processed_messages')).toBe(9);
      expect(n("SELECT count(*) AS n FROM version_reports WHERE kind = 'version-report'")).toBe(6);
      // 3 + 3 + 3 version requests, 3 + 3 counter requests, 3 update mails: all sent, each once
      const items = db.prepare('SELECT kind, message_id, sent_at, attempts FROM outbox').all() as {
        kind: string;
        message_id: string;
        sent_at: string | null;
        attempts: number;
      }[];
      const byKind = (k: string) => items.filter((i) => i.kind === k).length;
      expect([byKind('version-request'), byKind('counter-request'), byKind('update'), items.length]).toEqual([9, 6, 3, 18]);
      for (const i of items)
        expect({ id: i.message_id, sent: i.sent_at !== null, attempts: i.attempts }).toEqual({ id: i.message_id, sent: true, attempts: 1 });
      const delivered = agents.flatMap((a) => messageIds(path.join(mailRoot(), `${a.id.toLowerCase()}@example.com`)));
      for (const i of items)
        expect(
          delivered.filter((d) => d === i.message_id),
          i.kind,
        ).toHaveLength(1);
    });
    const { rollouts } = JSON.parse((await run(host, 0, '--json', 'rollouts')).stdout);
    expect(rollouts.map((r: { agents: number; sent: number }) => [r.agents, r.sent])).toEqual([[3, 3]]);
  }, 240_000);
});

describe('verify', () => {
  it('sends the fault acks it queues while taking in mail', async () => {
    const a = agents[0] as AgentNode;
    const sim = path.join(root, 'jam.json');
    const device = { model: 'Sim', serial: 'J-1', status: 'running', reachable: true, faults: [{ code: 'jam', subunit: 'tray 1' }] };
    fs.writeFileSync(sim, JSON.stringify({ format: 'rds-simulated-devices/1', devices: { printer1: device } }));
    await run(a, 0, 'devices', 'add', '--id', 'P1', '--driver', 'simulated', '--file', sim, '--name', 'printer1');
    await run(a, 0, 'watch-faults');
    const r = await run(host, 0, '--json', 'verify', '--target', '1.0.00-1');
    expect(JSON.parse(r.stdout).mail).toMatchObject({ sent: 1, queued: 0, failed: [] });
    hostDb((db) => {
      const acks = db.prepare("SELECT sent_at FROM outbox WHERE kind = 'fault-ack'").all() as { sent_at: string | null }[];
      expect(acks).toHaveLength(1);
      expect(acks[0]?.sent_at).not.toBeNull();
    });
    expect((await run(host, 0, 'verify', '--target', '1.0.00-1')).stdout).not.toMatch(/^mail:/m); // nothing more to send
  }, 120_000);

  it('--wait counts time by the injected clock, not the wall clock', async () => {
    await initAgent(root, host, { id: 'AGENT0000009' }); // registered, never answers
    let t = Date.parse('2026-12-01T10:00:00Z');
    let calls = 0;
    const clock = {
      now: () => {
        calls++;
        t += 20 * 60_000; // twenty minutes a tick: a one-hour wait is over after three
        return new Date(t);
      },
    };
    const result = await verifyRun({ target: '1.0.00-1', wait: '1h', inbox: false, args: [] }, { config: host.config, quiet: true, clock });
    expect(result.exitCode).toBe(1);
    const silent = (result.data as { agents: { agentId: string; reason: string | null }[] }).agents.find(
      (x) => x.agentId === 'AGENT0000009',
    );
    expect(silent?.reason).toBe('no-reply');
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(calls).toBeLessThan(10);
  }, 60_000);
});

describe('the command lock itself', () => {
  it('under contention, with holders that die holding it: never two holders at once', async () => {
    // Six processes take and release one lock as fast as they can; one hold in five ends as a
    // crash would (the lock left holding a dead pid) instead of a release, so the others keep
    // taking a dead owner's lock over while the rest contend. Each holder logs while it holds.
    const dir = tempDir('lock-race-');
    const log = path.join(dir, 'holders.log');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited: its pid is a dead owner's
    const lockJs = pathToFileURL(path.join(ROOT, 'dist', 'core', 'store', 'lock.js')).href;
    const worker = `const fs = await import('node:fs');
const { acquireCommandLock } = await import(${JSON.stringify(lockJs)});
const [stateDir, log, startAt, dead] = process.argv.slice(1);
const file = stateDir + '/locks/race.lock';
while (Date.now() < Number(startAt)) {}
let held = 0;
for (let i = 0; i < 150; i++) {
  let lock;
  try { lock = acquireCommandLock(stateDir, 'race'); } catch (e) { if (e.code !== 'COMMAND_LOCKED') throw e; continue; }
  held++;
  fs.appendFileSync(log, '+' + process.pid + '\\n');
  const until = Date.now() + 1; while (Date.now() < until) {}
  fs.appendFileSync(log, '-' + process.pid + '\\n');
  if (held % 5 === 0) {
    fs.writeFileSync(file + '.crash-' + process.pid, dead + ' race');
    fs.renameSync(file + '.crash-' + process.pid, file); // "killed" holding it
  } else lock.release();
}`;
    const startAt = String(Date.now() + 1500);
    await Promise.all(
      Array.from({ length: 6 }, () =>
        execFileP(process.execPath, ['--input-type=module', '-e', worker, dir, log, startAt, String(dead)], { timeout: 60_000 }),
      ),
    );
    let crashes = 0;
    const events = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const most = mostHoldersAtOnce(events);
    for (const pid of new Set(events.map((e) => e.slice(1)))) crashes += Math.floor(events.filter((e) => e === `+${pid}`).length / 5);
    expect(crashes, 'dead owners taken over').toBeGreaterThan(5);
    expect(most, 'processes holding the lock at once').toBe(1);
    expect(fs.readdirSync(path.join(dir, 'locks')).filter((f) => f !== 'race.lock')).toEqual([]); // no guard or temp file left
  });
});
