// Sending commands never say "done" when the mail did not go out (issue 10 §1), and
// `rds outbox list|retry|drop` shows and steers what waits (§3). The host's SMTP is a tiny
// scripted server on loopback (test/support/scripted-smtp.ts) that delivers into the
// Maildir the agents read, so a whole flow runs: a refused login is exit 2, a deferral
// exit 3, a `550 5.1.1` ends that one mail as failed (never retried by later commands),
// and push-all's rollout status agrees with the outbox whoever sends the mail.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';
import { writeInstallScript } from '../support/fleet.js';
import { type ScriptedSmtp, setSmtp, startImapLookalike, startScriptedSmtp } from '../support/scripted-smtp.js';

const PASSWORD = 'right-pw-4711';
let root: string;
let host: HostNode;
let a1: AgentNode;
let a2: AgentNode;
let smtp: ScriptedSmtp;

const env = (password = PASSWORD) => ({ RDS_SMTP_PASSWORD: password });
const run = (node: { config: string }, expected: number, args: string[], password?: string) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root, env: env(password) });
const json = async (node: { config: string }, expected: number, args: string[], password?: string) =>
  JSON.parse((await run(node, expected, ['--json', ...args], password)).stdout);

interface Entry {
  seq: number;
  kind: string;
  to: string[];
  attempts: number;
  state: string;
  lastError: string | null;
  endedReason: string | null;
}
const outbox = async (node: { config: string }) => (await json(node, 0, ['outbox', 'list'])).items as Entry[];
const unsent = async (node: { config: string }) => (await outbox(node)).filter((i) => i.state !== 'sent');

const accept = () => {
  smtp.mode.login = 'accept';
  smtp.mode.rcpt = () => undefined;
};

beforeAll(() => ensureBuilt());

/**
 * Every test starts from its own world (order does not matter, --sequence.shuffle): a host
 * with `agents` registered agents (AGENT0000001, AGENT0000002) and an empty outbox, sending
 * through its own scripted SMTP server, which accepts everything.
 */
async function world(agents: 0 | 2): Promise<void> {
  root = tempDir('i10x-outbox-');
  host = await initHost(root);
  if (agents === 2) {
    a1 = await initAgent(root, host, { id: 'AGENT0000001' });
    a2 = await initAgent(root, host, { id: 'AGENT0000002' });
  }
  smtp = await startScriptedSmtp(path.join(root, 'mail'), PASSWORD);
  setSmtp(host.config, smtp.url('rds'));
}
const withAgents = () => beforeEach(() => world(2), 120_000);

afterEach(async () => {
  await smtp?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** request-versions with AGENT0000002's address refused for good (550): its item ends failed. */
async function failForGood(): Promise<Entry> {
  const dead = `${a2.id.toLowerCase()}@example.com`;
  smtp.mode.rcpt = (to) => (to === dead ? { code: 550, text: `5.1.1 <${to}>: Recipient address rejected` } : undefined);
  await run(host, 1, ['request-versions']);
  return (await outbox(host)).find((i) => i.state === 'failed') as Entry;
}

describe('a mail that did not go out is never success', () => {
  withAgents();

  it('a refused login (535) is exit 2: the requests stay queued, the line says why', async () => {
    accept();
    const r = await rds(['--config', host.config, 'request-versions'], { cwd: root, env: env('wrong-pw') });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).not.toMatch(/^requested versions from/m);
    expect(r.stdout).toMatch(/^mail: 0 sent, 2 still queued: SMTP server 127\.0\.0\.1:\d+ refused the login of rds: .*535/m);
    expect(r.stdout + r.stderr).not.toContain('wrong-pw');
    const items = await unsent(host);
    expect(items.map((i) => [i.kind, i.state])).toEqual([
      ['version-request', 'queued'],
      ['version-request', 'queued'],
    ]);
    for (const i of items) expect(i.lastError).toMatch(/refused the login/);
    expect(smtp.delivered(`${a1.id.toLowerCase()}@example.com`)).toBe(0);
  });

  it('a deferral (451) is exit 3, and the next command with the server back sends the queue', async () => {
    smtp.mode.rcpt = () => ({ code: 451, text: '4.3.0 Try again later' });
    const r = await rds(['--config', host.config, '--json', 'request-counters'], { cwd: root, env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const data = JSON.parse(r.stdout);
    expect(data.mail).toMatchObject({ sent: 0, queued: 2, failed: [], stopped: { code: 'SMTP_DEFERRED', exitCode: 3 } });
    accept();
    const later = await run(host, 0, ['inbox']);
    expect(later.stdout).toMatch(/^mail: 2 sent$/m);
    expect(await unsent(host)).toEqual([]);
  });

  it('an smtp URL pointing at an IMAP port is exit 2 naming the port, not "unreachable"', async () => {
    const imap = await startImapLookalike();
    try {
      setSmtp(host.config, `smtp://rds@127.0.0.1:${imap.port}?tls=off`);
      const r = await rds(['--config', host.config, 'request-versions', '--agents', a1.id], { cwd: root, env: env() });
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stdout).toMatch(
        new RegExp(`^mail: 0 sent, 1 still queued: 127\\.0\\.0\\.1:${imap.port} is not an SMTP server .*check the port`, 'm'),
      );
    } finally {
      setSmtp(host.config, smtp.url('rds'));
      await imap.close();
    }
    await run(host, 0, ['inbox']); // sends it
  });
});

describe('a mail refused for good (550) ends, with its reason', () => {
  withAgents();

  it('request-versions exits 1, the item is failed and later commands do not try it again', async () => {
    const dead = `${a2.id.toLowerCase()}@example.com`;
    smtp.mode.rcpt = (to) => (to === dead ? { code: 550, text: `5.1.1 <${to}>: Recipient address rejected` } : undefined);
    const r = await run(host, 1, ['request-versions']);
    expect(r.stdout).toMatch(/^requested versions from 1 of 2 agents$/m);
    expect(r.stdout).toMatch(/^mail: 1 sent, 1 failed for good \(to agent0000002@example\.com: .*550 5\.1\.1/m);
    const failed = (await outbox(host)).filter((i) => i.state === 'failed');
    expect(failed.map((i) => [i.kind, i.to, i.attempts])).toEqual([['version-request', [dead], 1]]);
    expect(failed[0]?.endedReason).toMatch(/550 5\.1\.1/);
    for (let n = 0; n < 3; n++) await run(host, 0, ['inbox']);
    const again = (await outbox(host)).find((i) => i.seq === failed[0]?.seq);
    expect(again).toMatchObject({ state: 'failed', attempts: 1 });
    const table = (await run(host, 0, ['outbox', 'list'])).stdout;
    expect(table).toMatch(
      new RegExp(`^${failed[0]?.seq} +version-request +agent0000002@example\\.com .* 1 +failed +SMTP server .*550 5\\.1\\.1`, 'm'),
    );
  });

  it('rds outbox retry ID sends it once the address exists; a sent item cannot be retried (exit 2)', async () => {
    const { seq } = await failForGood();
    accept();
    const r = await run(host, 0, ['outbox', 'retry', String(seq)]);
    expect(r.stdout).toMatch(new RegExp(`^sent #${seq} version-request to agent0000002@example\\.com`, 'm'));
    expect(r.stdout).toMatch(/^mail: 1 sent$/m);
    const twice = await rds(['--config', host.config, 'outbox', 'retry', String(seq)], { cwd: root, env: env() });
    expect(twice.code).toBe(2);
    expect(twice.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^rds: outbox item #\d+ .* was sent at .*nothing to retry$/)]);
  });

  it('rds outbox drop ID keeps the item, marked dropped, and it is never sent', async () => {
    smtp.mode.rcpt = () => ({ code: 451, text: '4.3.0 Try again later' });
    await run(host, 3, ['request-versions', '--agents', a1.id]);
    const queued = (await unsent(host))[0] as Entry;
    const r = await run(host, 0, ['outbox', 'drop', String(queued.seq)]);
    expect(r.stdout).toMatch(new RegExp(`^dropped #${queued.seq} version-request to agent0000001@example\\.com .*never sent$`, 'm'));
    accept();
    const before = smtp.delivered('agent0000001@example.com');
    await run(host, 0, ['inbox']);
    expect(smtp.delivered('agent0000001@example.com')).toBe(before);
    expect((await outbox(host)).find((i) => i.seq === queued.seq)).toMatchObject({ state: 'dropped', attempts: 1 });
  });
});

describe('outbox retry/drop with a bad id', () => {
  beforeEach(() => world(0), 120_000);

  it.each([['nosuch'], ['0'], ['-1'], ['<nobody@example.com>']])('outbox retry/drop %s: one line, exit 2', async (id) => {
    for (const verb of ['retry', 'drop']) {
      const r = await rds(['--config', host.config, 'outbox', verb, id], { cwd: root, env: env() });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/this is a bug|\n\s+at /);
    }
  });
});

describe('push-all status and the outbox agree', () => {
  const pkgFile = () => path.join(root, 'up.rdsu');
  withAgents();
  beforeEach(async () => {
    fs.writeFileSync(path.join(root, 'main.cgi'), 'main 1.0.02\n');
    await run(host, 0, [
      'pack-update',
      '--software-version',
      '1.0.02-0',
      '--script',
      writeInstallScript(root),
      '--module',
      `main.cgi=1.0.02:${path.join(root, 'main.cgi')}`,
      '-o',
      pkgFile(),
    ]);
  }, 60_000);

  it('send deferred, another host command flushes, then --retry-failed sends nothing twice and status says sent', async () => {
    smtp.mode.rcpt = () => ({ code: 451, text: '4.3.0 Try again later' });
    const pushed = await run(host, 3, ['push-all', pkgFile()]);
    const rollout = /rollout (R\S+):/.exec(pushed.stdout)?.[1] as string;
    expect(pushed.stdout).toMatch(new RegExp(`^mail: 0 sent, 2 still queued: .*deferred.*; rds push-all --retry-failed ${rollout}$`, 'm'));
    accept();
    const before = ['agent0000001@example.com', 'agent0000002@example.com'].map((a) => smtp.delivered(a));
    expect((await run(host, 0, ['inbox'])).stdout).toMatch(/^mail: 2 sent$/m);
    const rollouts = (await json(host, 0, ['rollouts'])).rollouts as { id: string; sent: number }[];
    expect(rollouts.find((r) => r.id === rollout)?.sent).toBe(2);
    const retry = await run(host, 0, ['push-all', '--retry-failed', rollout]);
    expect(retry.stdout).toMatch(/no failed agents to retry/);
    const after = ['agent0000001@example.com', 'agent0000002@example.com'].map((a) => smtp.delivered(a));
    expect(after.map((n, i) => n - (before[i] as number))).toEqual([1, 1]);
  });

  it('a 550 ends the update mail as send-failed; later flushes leave it; --retry-failed sends it once', async () => {
    smtp.mode.rcpt = (to) => (to === 'agent0000002@example.com' ? { code: 550, text: '5.1.1 no such user' } : undefined);
    const pushed = await json(host, 1, ['push-all', pkgFile()]);
    const status = Object.fromEntries((pushed.agents as { agentId: string; status: string }[]).map((a) => [a.agentId, a.status]));
    expect(status).toEqual({ AGENT0000001: 'sent', AGENT0000002: 'send-failed' });
    accept();
    const before = smtp.delivered('agent0000002@example.com');
    await run(host, 0, ['inbox']);
    expect(smtp.delivered('agent0000002@example.com')).toBe(before);
    const retried = await json(host, 0, ['push-all', '--retry-failed', pushed.rolloutId]);
    expect(retried.agents).toEqual([expect.objectContaining({ agentId: 'AGENT0000002', status: 'sent' })]);
    expect(smtp.delivered('agent0000002@example.com')).toBe(before + 1);
    await run(host, 0, ['inbox']);
    expect(smtp.delivered('agent0000002@example.com')).toBe(before + 1);
  });
});

describe('a removed agent', () => {
  withAgents();

  it('its queued mail ends (dropped, with the reason) and is not retried', async () => {
    smtp.mode.rcpt = () => ({ code: 451, text: '4.3.0 Try again later' });
    await run(host, 3, ['request-versions', '--agents', a2.id]);
    const r = await run(host, 0, ['agents', 'remove', a2.id]);
    expect(r.stdout).toMatch(/^removed AGENT0000002; 1 queued mail\(s\) to agent0000002@example\.com dropped/m);
    const toRemoved = (await unsent(host)).filter((i) => i.to.includes('agent0000002@example.com'));
    expect(toRemoved.filter((i) => i.endedReason === 'agent AGENT0000002 was removed from the registry')).toHaveLength(1);
    expect(toRemoved.filter((i) => i.state === 'queued')).toEqual([]);
    accept();
    const before = smtp.delivered('agent0000002@example.com');
    await run(host, 0, ['inbox']);
    expect(smtp.delivered('agent0000002@example.com')).toBe(before);
  });
});

describe('the agent side', () => {
  withAgents();

  it('poll-mail with a refused SMTP login is exit 2 and its reply stays queued (rds outbox list on the agent)', async () => {
    accept();
    await run(host, 0, ['request-versions', '--agents', a1.id]);
    setSmtp(a1.config, smtp.url('agent1'));
    const r = await rds(['--config', a1.config, 'poll-mail'], { cwd: root, env: env('wrong') });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^version-request \S+: reported$/m);
    const items = await unsent(a1);
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.state === 'queued')).toBe(true);
    expect(items.map((i) => i.kind)).toContain('version-report');
    expect(r.stdout).toMatch(new RegExp(`^mail: 0 sent, ${items.length} still queued: SMTP server .* refused the login of agent1`, 'm'));
    const fixed = await run(a1, 0, ['poll-mail']);
    expect(fixed.stdout).toMatch(new RegExp(`^mail: ${items.length} sent$`, 'm'));
    expect(await unsent(a1)).toEqual([]);
  });
});
