// Rollouts in waves (docs/rollouts.md) with the real binary on the embedded maildir://
// backend: a host and ten agents; a canary, a second wave whose two agents fail (their
// install script exits non-zero), the halt that keeps wave 3 unmailed, resume; a silent
// agent re-sent --retries times then timed out; --rate, pause, abort, the dry-run plan and
// bad flags. Every update mail is counted in the agents' own Maildirs.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/core/errors.js';
import { mailboxDir } from '../../src/core/mail/maildir-layout.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';
import { writeInstallScript } from '../support/fleet.js';

interface Status {
  rollout: string;
  target: string;
  state: string;
  haltReason?: string;
  waves: { wave: number; agents: number; state: string }[];
  counts: Record<string, number>;
  agents: {
    agentId: string;
    wave: number;
    state: string;
    reason: string | null;
    attempts: number;
    sentAt: string | null;
    reportedAt: string | null;
  }[];
}

const id = (n: number) => `AGENT${String(n).padStart(7, '0')}`;

/** A host and N agents in ROOT, and the package of VERSION (install fails where `fail-install` exists). */
async function fleet(root: string, n: number) {
  const host = await initHost(root);
  const agents: AgentNode[] = [];
  for (let i = 1; i <= n; i++) agents.push(await initAgent(root, host, { id: id(i) }));
  return { host, agents };
}

async function pack(root: string, host: HostNode, version: string): Promise<string> {
  const pkg = path.join(root, `up-${version}.rdsu`);
  const module = path.join(root, `main-${version}.cgi`);
  fs.writeFileSync(module, `main ${version}\n`);
  const args = [
    'pack-update',
    '--software-version',
    version,
    '--script',
    writeInstallScript(root),
    '--module',
    `main.cgi=${version}:${module}`,
  ];
  await rdsExpect(0, ['--config', host.config, ...args, '-o', pkg], { cwd: root });
  return pkg;
}

/** Mails of TYPE (X-RDS-Type) delivered to AGENT's mailbox, wherever they were filed since. */
function mailsOf(root: string, agent: AgentNode, type = 'update'): number {
  const dir = mailboxDir(path.join(root, 'mail'), `${agent.id.toLowerCase()}@example.com`);
  if (!fs.existsSync(dir)) return 0;
  const header = new RegExp(`^X-RDS-Type: ${type}\\r?$`, 'mi');
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || path.basename(e.parentPath) === 'tmp' || e.name.endsWith('.reason')) continue;
    if (header.test(fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'))) n++;
  }
  return n;
}

const runIn =
  (root: string) =>
  (node: { config: string }, expected: number, ...args: string[]) =>
    rdsExpect(expected, ['--config', node.config, ...args], { cwd: root });

const oneLine = (stderr: string): string => {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0] as string;
};

describe('10 agents, --waves 1,30%,100% --max-failures 1: canary, wave 2 fails, halt, resume', () => {
  let root: string;
  let host: HostNode;
  let agents: AgentNode[];
  let run: ReturnType<typeof runIn>;
  let rolloutId: string;
  const status = async (expected = 0) => JSON.parse((await run(host, expected, '--json', 'rollout', 'status', rolloutId)).stdout) as Status;

  beforeAll(async () => {
    ensureBuilt();
    root = tempDir('s22-waves-');
    run = runIn(root);
    ({ host, agents } = await fleet(root, 10));
  }, 180_000);

  it('push-all records the whole plan and mails wave 1 only', async () => {
    const pkg = await pack(root, host, '1.0.02-0');
    const r = await run(host, 0, '--json', 'push-all', pkg, '--waves', '1,30%,100%', '--max-failures', '1');
    const pushed = JSON.parse(r.stdout) as {
      rolloutId: string;
      waves: number;
      agents: { agentId: string; status: string; wave: number }[];
    };
    rolloutId = pushed.rolloutId;
    expect(pushed.waves).toBe(3);
    expect(pushed.agents.map((a) => [a.agentId, a.wave, a.status])).toEqual([
      [id(1), 1, 'sent'],
      [id(2), 2, 'pending'],
      [id(3), 2, 'pending'],
      ...[4, 5, 6, 7, 8, 9, 10].map((n) => [id(n), 3, 'pending']),
    ]);
    expect(agents.map((a) => mailsOf(root, a))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('the canary installs; advance opens wave 2 and mails its two agents', async () => {
    expect((await run(agents[0] as AgentNode, 0, 'poll-mail')).stdout).toMatch(/update .*: installed/);
    const r = await run(host, 0, '--json', 'rollout', 'advance');
    const { rollouts } = JSON.parse(r.stdout) as { rollouts: { rollout: string; opened?: number; queued: string[]; state: string }[] };
    expect(rollouts).toHaveLength(1);
    expect(rollouts[0]).toMatchObject({ rollout: rolloutId, opened: 2, queued: [id(2), id(3)], state: 'running' });
    expect(agents.map((a) => mailsOf(root, a))).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect((await status()).waves).toEqual([
      { wave: 1, agents: 1, state: 'done' },
      { wave: 2, agents: 2, state: 'running' },
      { wave: 3, agents: 7, state: 'pending' },
    ]);
  });

  it('two installs of wave 2 fail: the rollout halts (exit 1) naming the budget and the agents; wave 3 gets nothing', async () => {
    for (const a of agents.slice(1, 3)) {
      fs.writeFileSync(path.join(a.installRoot, 'fail-install'), '');
      expect((await run(a, 1, 'poll-mail')).stdout).toMatch(/update .*: rolled-back/);
    }
    const r = await run(host, 1, 'rollout', 'advance');
    expect(r.stdout).toContain(
      `rollout ${rolloutId} halted: max-failures 1 passed: 2 failed (${id(2)}, ${id(3)}); nothing more is sent (rds rollout resume ${rolloutId} or rds rollout abort ${rolloutId})`,
    );
    // a second pass: still halted, still exit 1, still nothing for wave 3
    await run(host, 1, 'rollout', 'advance');
    expect(agents.map((a) => mailsOf(root, a))).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('status --json shows the halt per wave and per agent', async () => {
    const s = await status();
    expect(s).toMatchObject({ rollout: rolloutId, target: '1.0.02-0', state: 'halted' });
    expect(s.haltReason).toBe(`max-failures 1 passed: 2 failed (${id(2)}, ${id(3)})`);
    expect(s.waves.map((w) => w.state)).toEqual(['done', 'done', 'pending']);
    expect(s.counts).toEqual({ pending: 7, sent: 0, deferred: 0, installed: 1, failed: 2, 'timed-out': 0, skipped: 0 });
    expect(s.agents.slice(0, 4).map((a) => [a.agentId, a.wave, a.state, a.reason, a.attempts])).toEqual([
      [id(1), 1, 'installed', null, 1],
      [id(2), 2, 'failed', 'rolled-back', 1],
      [id(3), 2, 'failed', 'rolled-back', 1],
      [id(4), 3, 'pending', null, 0],
    ]);
    for (const a of s.agents.slice(0, 3)) {
      expect(Number.isNaN(Date.parse(String(a.sentAt)))).toBe(false);
      expect(Number.isNaN(Date.parse(String(a.reportedAt)))).toBe(false);
    }
    expect(s.agents[3]?.sentAt).toBeNull();
  });

  it('status text: the verify columns plus wave and state, one row per agent, and the counts', async () => {
    const out = (await run(host, 0, 'rollout', 'status')).stdout.trimEnd().split('\n');
    expect(out[0]).toBe(`rollout ${rolloutId}: update to 1.0.02-0, halted, wave 2 of 3`);
    const header = out.find((l) => l.startsWith('Agent ID'));
    expect(header?.split(/\s{2,}/)).toEqual(['Agent ID', 'Mail address', 'Version', 'Last version check (UTC)', 'Note', 'Wave', 'State']);
    expect(out.filter((l) => l.startsWith('AGENT'))).toHaveLength(10);
    expect(out.find((l) => l.startsWith(id(2)))).toMatch(/\s2\s+failed \(rolled-back\)$/);
    expect(out[out.length - 1]).toBe('agents: 7 pending, 1 installed, 2 failed');
  });

  it('verify judges the agents sent so far and counts the pending ones', async () => {
    const v = JSON.parse((await run(host, 1, '--json', 'verify', '--no-inbox')).stdout) as {
      agents: { agentId: string }[];
      pending: number;
      failed: number;
    };
    expect(v.agents.map((a) => a.agentId)).toEqual([id(1), id(2), id(3)]);
    expect(v.failed).toBe(2);
    expect(v.pending).toBe(7);
    expect((await run(host, 1, 'verify', '--no-inbox')).stdout).toMatch(/^7 agents still pending/m);
  });

  it('resume accepts the two failures: the next advance mails wave 3, the installs end it done', async () => {
    expect((await run(host, 0, 'rollout', 'resume', rolloutId)).stdout).toMatch(/running again/);
    const r = JSON.parse((await run(host, 0, '--json', 'rollout', 'advance')).stdout) as {
      rollouts: { opened?: number; queued: string[] }[];
    };
    expect(r.rollouts[0]?.opened).toBe(3);
    expect(r.rollouts[0]?.queued).toEqual([4, 5, 6, 7, 8, 9, 10].map(id));
    expect(agents.map((a) => mailsOf(root, a))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    for (const a of agents.slice(3)) expect((await run(a, 0, 'poll-mail')).stdout).toMatch(/update .*: installed/);
    expect((await run(host, 0, 'rollout', 'advance')).stdout).toMatch(new RegExp(`^rollout ${rolloutId} \\(wave 3 of 3\\): done$`, 'm'));
    const s = await status();
    expect(s.state).toBe('done');
    expect(s.counts).toMatchObject({ installed: 8, failed: 2, pending: 0 });
    const list = JSON.parse((await run(host, 0, '--json', 'rollouts')).stdout) as { rollouts: { id: string; state: string }[] };
    expect(list.rollouts.find((x) => x.id === rolloutId)?.state).toBe('done');
    // a done rollout cannot be resumed: one line, exit 2
    const again = await rds(['--config', host.config, 'rollout', 'resume', rolloutId], { cwd: root });
    expect(again.code).toBe(EXIT.USAGE);
    expect(oneLine(again.stderr)).toContain(`rollout ${rolloutId} is done: resume needs a rollout that is paused or halted`);
  });

  it('--dry-run prints the plan (canary first, per wave its agents, mails and bytes) and records nothing', async () => {
    const pkg = await pack(root, host, '1.0.03-0');
    const before = agents.map((a) => mailsOf(root, a));
    const r = await run(host, 0, '--json', 'push-all', pkg, '--dry-run', '--canary', id(5), '--waves', '50%,100%');
    const plan = (JSON.parse(r.stdout) as { plan: { wave: number; agents: string[]; mails: number; bytes: number }[] }).plan;
    expect(plan.map((w) => [w.wave, w.agents, w.mails])).toEqual([
      [1, [id(5)], 1],
      [2, [id(1), id(2), id(3), id(4)], 4],
      [3, [6, 7, 8, 9, 10].map(id), 5],
    ]);
    const perMail = (plan[0] as { bytes: number }).bytes;
    expect(perMail).toBeGreaterThan(fs.statSync(pkg).size);
    expect(plan.map((w) => w.bytes)).toEqual([perMail, 4 * perMail, 5 * perMail]);
    const text = (await run(host, 0, 'push-all', pkg, '--dry-run', '--canary', id(5), '--waves', '50%,100%')).stdout;
    expect(text).toContain(`wave 1: 1 agent (${id(5)}), 1 update mail, about ${perMail} bytes`);
    expect(text).toContain(`in all: 3 waves, 10 update mails, about ${10 * perMail} bytes; nothing sent`);
    expect(agents.map((a) => mailsOf(root, a))).toEqual(before);
    const list = JSON.parse((await run(host, 0, '--json', 'rollouts')).stdout) as { rollouts: unknown[] };
    expect(list.rollouts).toHaveLength(1);
  });

  it('--rate 3/h: push-all mails three, advance in the same hour none; pause holds, abort skips the rest', async () => {
    const pkg = await pack(root, host, '1.0.04-0');
    const before = agents.map((a) => mailsOf(root, a));
    const pushed = JSON.parse((await run(host, 0, '--json', 'push-all', pkg, '--rate', '3/h')).stdout) as {
      rolloutId: string;
      agents: { status: string }[];
    };
    expect(pushed.agents.map((a) => a.status)).toEqual(['sent', 'sent', 'sent', ...Array(7).fill('pending')]);
    const r = JSON.parse((await run(host, 0, '--json', 'rollout', 'advance', pushed.rolloutId)).stdout) as {
      rollouts: { queued: string[] }[];
    };
    expect(r.rollouts[0]?.queued).toEqual([]);
    const sent = agents.map((a, i) => mailsOf(root, a) - (before[i] as number));
    expect(sent).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);

    await run(host, 0, 'rollout', 'pause', pushed.rolloutId);
    const paused = JSON.parse((await run(host, 0, '--json', 'rollout', 'status', pushed.rolloutId)).stdout) as Status;
    expect(paused.state).toBe('paused');
    const illegal = await rds(['--config', host.config, 'rollout', 'pause', pushed.rolloutId], { cwd: root });
    expect(illegal.code).toBe(EXIT.USAGE);
    expect(oneLine(illegal.stderr)).toContain('is paused: pause needs a rollout that is running');

    expect((await run(host, 0, 'rollout', 'abort', pushed.rolloutId)).stdout).toMatch(/aborted: agents not sent yet are skipped/);
    const aborted = JSON.parse((await run(host, 0, '--json', 'rollout', 'status', pushed.rolloutId)).stdout) as Status;
    expect(aborted.state).toBe('aborted');
    expect(aborted.counts).toMatchObject({ sent: 3, skipped: 7, pending: 0 });
    await run(host, 0, 'rollout', 'advance', pushed.rolloutId);
    expect(agents.map((a, i) => mailsOf(root, a) - (before[i] as number))).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('an unknown rollout: UNKNOWN_ROLLOUT, exit 2, one line', async () => {
    for (const args of [
      ['rollout', 'status', 'R-NOSUCH'],
      ['rollout', 'advance', 'R-NOSUCH'],
      ['rollout', 'abort', 'R-NOSUCH'],
    ]) {
      const r = await rds(['--config', host.config, ...args], { cwd: root });
      expect(r.code).toBe(EXIT.USAGE);
      expect(oneLine(r.stderr)).toContain("no rollout 'R-NOSUCH'");
    }
  });

  it.each([
    [['--waves', '10%,50%'], "--waves '10%,50%': the last wave must be 100%"],
    [['--waves', '1,x,100%'], "--waves '1,x,100%': 'x' is not a count"],
    [['--waves', '50%,2,100%'], '--waves: each wave is a cumulative share'],
    [['--max-failures', 'many'], "--max-failures 'many' is not a count"],
    [['--max-timeouts', '120%'], "--max-timeouts '120%' is not a count"],
    [['--rate', '5/s'], "--rate '5/s' is not N/m or N/h"],
    [['--timeout', 'soon'], "--timeout: 'soon' is not a duration"],
    [['--retries', '-1'], "--retries '-1' is not a count"],
    [['--canary', 'AGENT0000099'], "--canary 'AGENT0000099' is not among the selected agents"],
  ])('push-all %j: exit 2, one line naming the flag, nothing recorded', async (flags, message) => {
    const pkg = path.join(root, 'up-1.0.04-0.rdsu');
    const r = await rds(['--config', host.config, 'push-all', pkg, ...flags], { cwd: root });
    expect(r.code).toBe(EXIT.USAGE);
    expect(oneLine(r.stderr)).toContain(message);
    const list = JSON.parse((await run(host, 0, '--json', 'rollouts')).stdout) as { rollouts: unknown[] };
    expect(list.rollouts).toHaveLength(2);
  });
});

describe('a silent agent: re-sent --retries times with a version request each, then timed out', () => {
  it('--timeout 1s --retries 2: three update mails, two version requests, timed-out, halted by max-timeouts 0', async () => {
    ensureBuilt();
    const root = tempDir('s22-silent-');
    const run = runIn(root);
    const { host, agents } = await fleet(root, 2);
    const [talker, silent] = agents as [AgentNode, AgentNode];
    const pkg = await pack(root, host, '1.0.02-0');
    const pushed = JSON.parse((await run(host, 0, '--json', 'push-all', pkg, '--timeout', '1s', '--retries', '2')).stdout) as {
      rolloutId: string;
    };
    await run(talker, 0, 'poll-mail');
    // advance until the silent agent times out (a pass a second or more after each send re-sends)
    let last = { code: 0 as number | null, stdout: '' };
    const end = Date.now() + 90_000;
    for (let passes = 0; ; passes++) {
      last = await rds(['--config', host.config, 'rollout', 'advance'], { cwd: root });
      if (last.code === EXIT.FAILED || Date.now() > end || passes > 60) break;
      expect(last.code, last.stdout).toBe(EXIT.OK);
    }
    expect(last.code, last.stdout).toBe(EXIT.FAILED);
    expect(last.stdout).toContain(`halted: max-timeouts 0 passed: 1 timed out (${silent.id})`);
    const s = JSON.parse((await run(host, 0, '--json', 'rollout', 'status', pushed.rolloutId)).stdout) as Status;
    expect(s.agents.map((a) => [a.agentId, a.state, a.attempts])).toEqual([
      [talker.id, 'installed', 1],
      [silent.id, 'timed-out', 3],
    ]);
    expect([mailsOf(root, talker), mailsOf(root, silent)]).toEqual([1, 3]);
    expect([mailsOf(root, talker, 'version-request'), mailsOf(root, silent, 'version-request')]).toEqual([0, 2]);
  }, 180_000);
});
