// Rollouts in waves (issue 12, docs/rollouts.md) over REAL Postfix + Dovecot with the real
// binary: a host and ten agents. The canary installs, `advance` sends wave 2, both its agents
// fail, the rollout halts and not one update mail reaches a wave-3 mailbox (read over IMAP);
// `resume` finishes it. A silent agent is re-sent `--retries` times and times out (one
// install when it comes back); `--rate` spreads the sends over passes; a failing health
// check switches back; an install window defers, then installs; an exported update installs
// on its agent, counts in the rollout, and is refused by every other agent.
//
// Time passes on the injected clock (test/support/rds-clock.mjs runs the binary
// RDS_TEST_CLOCK_OFFSET_MS ahead), never by waiting: every node of the test runs on the same
// clock, which only moves forward, so no node sees another's mail from the future.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, rdsExpect, releaseVersion, storeArgs, tempDir, writeScript } from '../support/cli.js';
import { type Fleet, type FleetNode, installRuns, writeInstallScript } from '../support/fleet.js';
import type { MailBackend } from '../support/mail-backends.js';
import { realMailBackend } from '../support/real-mail-backend.js';
import { withImapSession } from '../support/testbed.js';

interface AgentRow {
  agentId: string;
  wave: number;
  state: string;
  reason: string | null;
  attempts: number;
  sentAt: string | null;
  reportedAt: string | null;
}
interface Status {
  rollout: string;
  target: string;
  state: string;
  haltReason?: string;
  waves: { wave: number; agents: number; state: string }[];
  counts: Record<string, number>;
  agents: AgentRow[];
}

const MINUTE = 60_000;
let mail: MailBackend;
let fleet: Fleet;
let root: string;
let script: string;
/** how far ahead of the real clock every node runs (ms); only ever grows */
let ahead = 0;

const agent = (n: number) => fleet.agents[n - 1] as FleetNode;
const ids = (...ns: number[]) => ns.map((n) => agent(n).id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `rds --config NODE ARGS` on the test's clock; fails unless it exits `expected`. */
function run(node: FleetNode, expected: number, ...args: string[]) {
  const env = ahead > 0 ? { RDS_TEST_CLOCK_OFFSET_MS: String(ahead) } : {};
  return rdsExpect(expected, ['--config', node.config, ...args], { cwd: root, env });
}
const host = (expected: number, ...args: string[]) => run(fleet.host, expected, ...args);

async function status(id: string): Promise<Status> {
  return JSON.parse((await host(0, '--json', 'rollout', 'status', id)).stdout) as Status;
}
/** The latest rollout's id (the one push-all just recorded). */
async function latestRollout(): Promise<string> {
  return JSON.parse((await host(0, '--json', 'rollout', 'status')).stdout).rollout as string;
}
const row = (s: Status, n: number) => s.agents.find((a) => a.agentId === agent(n).id) as AgentRow;
const nonZero = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, v]) => v > 0));

async function pack(version: string, ...extra: string[]): Promise<string> {
  const pkg = path.join(root, `update-${version}.rdsu`);
  const moduleArg = `main.cgi=${version.slice(0, 6)}:${path.join(root, 'main.cgi')}`;
  await host(0, 'pack-update', '--software-version', version, '--script', script, '--module', moduleArg, ...extra, '-o', pkg);
  return pkg;
}

const current = (n: number) => releaseVersion(path.basename(fs.readlinkSync(path.join(agent(n).dir, 'install', 'current'))));
const failInstall = (n: number) => path.join(agent(n).dir, 'install', 'fail-install');

/** Every folder of a mailbox emptied, every folder but INBOX deleted. */
async function resetMailbox(address: string): Promise<void> {
  await withImapSession(address, async (client) => {
    for (const box of await client.list()) if (box.path !== 'INBOX') await client.mailboxDelete(box.path);
    const lock = await client.getMailboxLock('INBOX');
    try {
      if (client.mailbox && client.mailbox.exists > 0) await client.messageDelete('1:*');
    } finally {
      lock.release();
    }
  });
}

/**
 * The INBOX of each address once the mail system has delivered what was handed to it before
 * this call: a probe mail goes through the same Postfix to each mailbox and is waited for
 * (bounded), then removed. Returns the other mails' raw text.
 */
async function settledInboxes(addresses: string[]): Promise<string[][]> {
  const tag = `rds-barrier-${Date.now()}`;
  for (const to of addresses) {
    await mail.deliverRaw(to, Buffer.from(`From: probe@example.test\r\nTo: ${to}\r\nSubject: ${tag}\r\n\r\nbarrier\r\n`));
  }
  const out: string[][] = [];
  for (const to of addresses) {
    const deadline = Date.now() + 15_000;
    let raws = (await mail.mailboxRaw(to, 'INBOX')).map((r) => r.toString('latin1'));
    while (!raws.some((r) => r.includes(tag))) {
      if (Date.now() > deadline) throw new Error(`the probe mail did not reach ${to} within 15 s`);
      await new Promise((r) => setTimeout(r, 200));
      raws = (await mail.mailboxRaw(to, 'INBOX')).map((r) => r.toString('latin1'));
    }
    await withImapSession(to, async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        await client.messageDelete({ subject: tag });
      } finally {
        lock.release();
      }
    });
    out.push(raws.filter((r) => !r.includes(tag)));
  }
  return out;
}

/**
 * Wait (bounded) until the host's INBOX holds a mail from each of these agents: their
 * update-results are there for the next pass to take in.
 */
async function resultsFrom(...ns: number[]): Promise<void> {
  await mailsFrom(ns.map((n) => [n, 1]));
}

/** Wait (bounded) until the host's INBOX holds at least `count` mails from agent `n`, for each pair. */
async function mailsFrom(wanted: [n: number, count: number][]): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const raws = (await mail.mailboxRaw(mail.hostAddress, 'INBOX')).map((r) => r.toString('latin1'));
    const from = (n: number) => (raw: string) => raw.split(/\r?\n/).some((l) => /^from:/i.test(l) && l.includes(agent(n).address));
    const missing = wanted.filter(([n, count]) => raws.filter(from(n)).length < count).map(([n]) => n);
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`no mail from ${ids(...missing).join(', ')} in the host's inbox within 15 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const isUpdate = (raw: string) => /^x-rds-type: update\r?$/im.test(raw);

/** Wait (bounded) until agent N's INBOX holds at least `count` update mails. */
async function updateMails(n: number, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const raws = (await mail.mailboxRaw(agent(n).address, 'INBOX')).map((r) => r.toString('latin1'));
    if (raws.filter(isUpdate).length >= count) return;
    if (Date.now() > deadline) throw new Error(`${agent(n).id}: fewer than ${count} update mails in its inbox after 15 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function editConfig(node: FleetNode, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(node.config, 'utf8'));
  edit(json);
  fs.writeFileSync(node.config, JSON.stringify(json, null, 2), { mode: 0o600 });
}

/** `HH:MM-HH:MM` from `fromH` to `toH` hours after the test's now, in UTC (cleanEnv sets TZ=UTC). */
function windowAround(fromH: number, toH: number): string {
  const hhmm = (h: number) => {
    const d = new Date(Date.now() + ahead + h * 3_600_000);
    return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  };
  return `${hhmm(fromH)}-${hhmm(toH)}`;
}

/** At most `width` of `fn(0..n-1)` at once (independent agents: their commands may overlap). */
async function inParallel<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, width) }, worker));
  return out;
}

/** `rds init` of one node on the real servers, and its public key exported next to the others. */
async function initNode(role: 'host' | 'agent', id: string, address: string): Promise<FleetNode> {
  const dir = path.join(root, id);
  const urls = mail.urlsFor(address);
  const agentFlags = ['--host-address', mail.hostAddress, '--host-key', path.join(root, 'HOST.asc'), '--software-version', '1.0.00-1'];
  await rdsExpect(
    0,
    ['init', '--role', role, '--id', id, '--address', address, '--smtp', urls.smtp, '--imap', urls.imap, '--dir', dir]
      .concat(urls.tlsCa ? ['--tls-ca', urls.tlsCa] : [])
      .concat(role === 'agent' ? agentFlags : await storeArgs(root)),
    { cwd: root },
  );
  const config = path.join(dir, 'config.json');
  const publicKeyFile = path.join(root, `${id}.asc`);
  fs.writeFileSync(publicKeyFile, (await rdsExpect(0, ['--config', config, 'keys', 'export'], { cwd: root })).stdout);
  return { id, address, dir, config, publicKeyFile };
}

/**
 * What support/fleet.ts's makeFleet makes (a host, ten agents on 1.0.00-1), the agents
 * made three at a time and registered with one `rds agents import`.
 */
async function makeFleetQuickly(): Promise<Fleet> {
  const hostNode = await initNode('host', 'HOST', mail.hostAddress);
  const agents = await inParallel(10, 3, (i) => initNode('agent', `AGENT${String(i + 1).padStart(7, '0')}`, mail.agentAddress(i + 1)));
  const csv = path.join(root, 'agents.csv');
  fs.writeFileSync(
    csv,
    `id,address,key,note\n${agents.map((a, i) => `${a.id},${a.address},${a.publicKeyFile},customer ${i + 1}`).join('\n')}\n`,
  );
  await rdsExpect(0, ['--config', hostNode.config, 'agents', 'import', csv], { cwd: root });
  return {
    root,
    host: hostNode,
    agents,
    run: (node, expected, ...args) => rdsExpect(expected, ['--config', node.config, ...args], { cwd: root }),
  };
}

const mailboxes = () => [mail.hostAddress, ...range(1, 10).map((n) => mail.agentAddress(n))];

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-rollouts-');
  mail = realMailBackend();
  for (const address of mailboxes()) await resetMailbox(address);
  fleet = await makeFleetQuickly();
  script = writeInstallScript(root);
  fs.writeFileSync(path.join(root, 'main.cgi'), '#!/bin/sh\necho main\n');
}, 180_000);

// later files of the run use the same mailboxes: leave them empty
afterAll(async () => {
  if (mail) for (const address of mailboxes()) await resetMailbox(address);
});

describe('rollouts in waves on real Postfix + Dovecot', () => {
  it('the canary installs, wave 2 fails over the budget and halts before wave 3; resume finishes the rollout', async () => {
    const pkg = await pack('1.0.01-0');
    await host(0, 'push-all', pkg, '--waves', '1,30%,100%', '--max-failures', '1');
    const id = await latestRollout();
    await mail.waitForMail(agent(1).address);
    expect((await run(agent(1), 0, 'poll-mail')).stdout).toMatch(/update .*: installed/);
    await resultsFrom(1);
    await host(0, 'rollout', 'advance', id);

    for (const n of [2, 3]) {
      fs.writeFileSync(failInstall(n), '');
      await mail.waitForMail(agent(n).address);
      expect((await run(agent(n), 1, 'poll-mail')).stdout).toMatch(/update .*: rolled-back/);
    }
    await resultsFrom(2, 3);
    await host(1, 'rollout', 'advance', id);

    const wave3 = range(4, 10);
    expect(await settledInboxes(wave3.map((n) => agent(n).address))).toEqual(wave3.map(() => []));
    const halted = await status(id);
    expect(halted).toMatchObject({ rollout: id, target: '1.0.01-0', state: 'halted' });
    expect(halted.haltReason).toMatch(/^max-failures 1 passed: 2 failed/);
    expect(halted.waves).toEqual([
      { wave: 1, agents: 1, state: 'done' },
      { wave: 2, agents: 2, state: 'done' },
      { wave: 3, agents: 7, state: 'pending' },
    ]);
    expect(nonZero(halted.counts)).toEqual({ installed: 1, failed: 2, pending: 7 });
    expect(halted.agents.map((a) => [a.agentId, a.wave, a.state, a.reason, a.attempts])).toEqual([
      [agent(1).id, 1, 'installed', null, 1],
      [agent(2).id, 2, 'failed', 'rolled-back', 1],
      [agent(3).id, 2, 'failed', 'rolled-back', 1],
      ...wave3.map((n) => [agent(n).id, 3, 'pending', null, 0]),
    ]);
    expect(halted.agents.filter((a) => a.sentAt !== null).map((a) => a.agentId)).toEqual(ids(1, 2, 3));

    for (const n of [2, 3]) fs.rmSync(failInstall(n));
    await host(0, 'rollout', 'resume', id);
    await host(0, 'rollout', 'advance', id);
    const polled = await inParallel(wave3.length, 3, async (i) => {
      const n = wave3[i] as number;
      await mail.waitForMail(agent(n).address);
      return (await run(agent(n), 0, 'poll-mail')).stdout;
    });
    for (const out of polled) expect(out).toMatch(/update .*: installed/);
    await resultsFrom(...wave3);
    await host(0, 'rollout', 'advance', id);
    const done = await status(id);
    expect(done.state).toBe('done');
    expect(wave3.map((n) => row(done, n).state)).toEqual(wave3.map(() => 'installed'));
    expect(wave3.map(current)).toEqual(wave3.map(() => '1.0.01-0'));
  });

  it('a silent agent is re-sent --retries times, then timed-out; back, it installs exactly once', async () => {
    const pkg = await pack('1.0.02-0');
    const runsBefore = installRuns(agent(4));
    await host(0, 'push-all', pkg, '--agents', agent(4).id, '--timeout', '1m', '--retries', '2', '--max-timeouts', '1');
    const id = await latestRollout();
    for (const attempt of [2, 3]) {
      await updateMails(4, attempt - 1);
      ahead += MINUTE + 1_000; // the timeout passes: the pass re-sends
      await host(0, 'rollout', 'advance', id);
      expect(row(await status(id), 4)).toMatchObject({ state: 'sent', attempts: attempt });
    }
    await updateMails(4, 3);
    ahead += MINUTE + 1_000; // no retry left: timed out
    await host(0, 'rollout', 'advance', id);
    const s = await status(id);
    expect(row(s, 4)).toMatchObject({ state: 'timed-out', attempts: 3 });
    expect(s.state).toBe('done');
    expect(installRuns(agent(4))).toBe(runsBefore);

    const [inbox] = await settledInboxes([agent(4).address]);
    expect(inbox?.filter(isUpdate)).toHaveLength(3);
    const back = JSON.parse((await run(agent(4), 0, '--json', 'poll-mail')).stdout);
    expect(installRuns(agent(4))).toBe(runsBefore + 1);
    expect(current(4)).toBe('1.0.02-0');
    // its replies (results, version reports) taken in: later tests and files start with an empty inbox
    await mailsFrom([[4, back.mail.sent]]);
    await host(0, 'inbox');
    expect(await mail.mailboxRaw(mail.hostAddress, 'INBOX')).toEqual([]);
  });

  it('--rate 2/m sends two update mails a minute, one pass after another', async () => {
    const pkg = await pack('1.0.03-0');
    const selected = range(5, 9);
    await host(0, 'push-all', pkg, '--agents', ids(...selected).join(','), '--rate', '2/m');
    const id = await latestRollout();
    const sent = async () => (await status(id)).agents.filter((a) => a.sentAt !== null).length;
    expect(await sent()).toBe(2);
    await host(0, 'rollout', 'advance', id); // the same minute: nothing more
    expect(await sent()).toBe(2);
    ahead += MINUTE + 1_000;
    await host(0, 'rollout', 'advance', id);
    expect(await sent()).toBe(4);
    ahead += MINUTE + 1_000;
    await host(0, 'rollout', 'advance', id);
    expect(await sent()).toBe(5);
    const inboxes = await settledInboxes(selected.map((n) => agent(n).address));
    expect(inboxes.map((raws) => raws.filter(isUpdate).length)).toEqual(selected.map(() => 1));
  });

  it('a failing health check switches the agent back: failed, health-check-failed', async () => {
    const check = writeScript(path.join(root, 'health-check.sh'), 'echo "main.cgi answers 500" >&2\nexit 1');
    const pkg = await pack('1.0.04-0', '--health-check', check);
    const before = current(10);
    await host(0, 'push-all', pkg, '--agents', agent(10).id, '--max-failures', '1');
    const id = await latestRollout();
    await mail.waitForMail(agent(10).address);
    await run(agent(10), 1, 'poll-mail');
    expect(current(10)).toBe(before);
    await resultsFrom(10);
    await host(0, 'rollout', 'advance', id);
    expect(row(await status(id), 10)).toMatchObject({ state: 'failed', reason: 'health-check-failed' });
  });

  it('outside its install window the agent defers the update, and installs it at the next poll-mail inside', async () => {
    const pkg = await pack('1.0.05-0');
    const runsBefore = installRuns(agent(1));
    editConfig(agent(1), (json) => {
      json.installWindow = windowAround(2, 3);
    });
    await host(0, 'push-all', pkg, '--agents', agent(1).id);
    const id = await latestRollout();
    await mail.waitForMail(agent(1).address);
    expect((await run(agent(1), 0, 'poll-mail')).stdout).toMatch(/deferred/);
    expect(installRuns(agent(1))).toBe(runsBefore);
    await resultsFrom(1);
    await host(0, 'rollout', 'advance', id);
    expect(row(await status(id), 1).state).toBe('deferred');

    editConfig(agent(1), (json) => {
      json.installWindow = windowAround(-1, 1);
    });
    await run(agent(1), 0, 'poll-mail');
    expect(installRuns(agent(1))).toBe(runsBefore + 1);
    expect(current(1)).toBe('1.0.05-0');
    await resultsFrom(1);
    await host(0, 'rollout', 'advance', id);
    const s = await status(id);
    expect(row(s, 1).state).toBe('installed');
    expect(s.state).toBe('done');
  });

  it('export-update installs with apply-update on its agent and counts; every other agent refuses the file', async () => {
    const pkg = await pack('1.0.06-0');
    const file = path.join(root, 'for-agent2.rdsx');
    const exported = JSON.parse((await host(0, '--json', 'export-update', pkg, '--agent', agent(2).id, '-o', file)).stdout);
    const id = exported.rolloutId as string;
    // the file counts as sent (by file): the next pass mails agent 2 nothing
    expect(row(await status(id), 2)).toMatchObject({ state: 'sent', attempts: 1 });
    await host(0, 'rollout', 'advance', id);
    const [inbox2] = await settledInboxes([agent(2).address]);
    expect(inbox2?.filter(isUpdate)).toEqual([]);

    const others = [1, ...range(3, 10)];
    const runs = others.map((n) => installRuns(agent(n)));
    const refusals = await inParallel(others.length, 3, (i) => run(agent(others[i] as number), 4, '--json', 'apply-update', file));
    expect(refusals.map((r) => JSON.parse(r.stdout).error.code)).toEqual(others.map(() => 'PACKAGE_NOT_FOR_ME'));
    expect(others.map((n) => installRuns(agent(n)))).toEqual(runs);

    const before = installRuns(agent(2));
    await run(agent(2), 0, 'apply-update', file);
    expect(installRuns(agent(2))).toBe(before + 1);
    expect(current(2)).toBe('1.0.06-0');
    await run(agent(2), 0, 'poll-mail'); // sends the update-result the install queued
    await resultsFrom(2);
    await host(0, 'rollout', 'advance', id);
    const s = await status(id);
    expect(s.target).toBe('1.0.06-0');
    expect(s.agents.map((a) => [a.agentId, a.state])).toEqual([[agent(2).id, 'installed']]);
  });
});
