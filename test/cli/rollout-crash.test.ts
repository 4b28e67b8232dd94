// Crash safety of `rds rollout advance` (docs/rollouts.md#crash-safety): kill -9 at seeded
// random points while it opens a wave, signs and queues its mails and sends them; then
// ordinary passes. Every agent ends with exactly one update mail per attempt (counted by
// payload id in its own Maildir: a mail delivered and killed before it was marked sent goes
// again with the same id, which the agent drops as a replay), no wave is sent twice, no
// agent is skipped, and the rollout still ends done.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/core/errors.js';
import { mailboxDir } from '../../src/core/mail/maildir-layout.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rdsExpect, sleep, startRds, tempDir } from '../support/cli.js';
import { writeInstallScript } from '../support/fleet.js';
import { seededRandom, seedLabel, testSeed } from '../support/seed.js';

const id = (n: number) => `AGENT${String(n).padStart(7, '0')}`;

/** The distinct payload ids of update mails in AGENT's Maildir (any folder, not tmp/). */
function updateIds(root: string, agent: AgentNode): Set<string> {
  const dir = mailboxDir(path.join(root, 'mail'), `${agent.id.toLowerCase()}@example.com`);
  const out = new Set<string>();
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || path.basename(e.parentPath) === 'tmp' || e.name.endsWith('.reason')) continue;
    const text = fs.readFileSync(path.join(e.parentPath, e.name), 'utf8');
    if (!/^X-RDS-Type: update\r?$/im.test(text)) continue;
    const payload = /^X-RDS-ID: (\S+)\r?$/im.exec(text)?.[1];
    if (payload) out.add(payload);
  }
  return out;
}

interface Status {
  state: string;
  agents: { agentId: string; wave: number; state: string; attempts: number }[];
}

describe('kill -9 of rollout advance', () => {
  let root: string;
  let host: HostNode;
  let agents: AgentNode[];
  const run = (node: { config: string }, expected: number, ...args: string[]) =>
    rdsExpect(expected, ['--config', node.config, ...args], { cwd: root });

  beforeAll(async () => {
    ensureBuilt();
    root = tempDir('s22-rollout-crash-');
    host = await initHost(root);
    agents = [];
    for (let i = 1; i <= 6; i++) agents.push(await initAgent(root, host, { id: id(i) }));
  }, 120_000);

  const seed = testSeed();
  it(`at random points while wave 2 opens and goes out, then ordinary passes (${seedLabel(seed)})`, async () => {
    const module = path.join(root, 'main.cgi');
    fs.writeFileSync(module, 'main 1.0.02\n');
    const pkg = path.join(root, 'up.rdsu');
    const packArgs = [
      'pack-update',
      '--software-version',
      '1.0.02-0',
      '--script',
      writeInstallScript(root),
      '--module',
      `main.cgi=1.0.02:${module}`,
    ];
    await run(host, 0, ...packArgs, '-o', pkg);
    const pushed = JSON.parse((await run(host, 0, '--json', 'push-all', pkg, '--canary', id(1))).stdout) as { rolloutId: string };
    await run(agents[0] as AgentNode, 0, 'poll-mail');

    const random = seededRandom(seed);
    const status = async () => JSON.parse((await run(host, 0, '--json', 'rollout', 'status', pushed.rolloutId)).stdout) as Status;
    for (let i = 0; i < 4; i++) {
      const delay = 150 + random() * 1800;
      const where = `${seedLabel(seed)}: kill ${i} after ${Math.round(delay)} ms`;
      const pass = startRds(['--config', host.config, 'rollout', 'advance'], { cwd: root });
      await sleep(delay);
      pass.child.kill('SIGKILL');
      const result = await pass.done;
      if (result.signal !== 'SIGKILL') expect(result.code, `${where}\n${result.stderr}`).toBe(EXIT.OK);
      // whatever the kill interrupted: no agent holds more update mails than attempts recorded, none more than one
      const s = await status();
      for (const a of agents) {
        const row = s.agents.find((x) => x.agentId === a.id);
        const mails = updateIds(root, a).size;
        expect(mails, `${where}: ${a.id}`).toBeLessThanOrEqual(row?.attempts ?? 0);
        expect(mails, `${where}: ${a.id}`).toBeLessThanOrEqual(1);
      }
    }
    await run(host, 0, 'rollout', 'advance');
    await run(host, 0, 'rollout', 'advance');
    const s = await status();
    expect(s.agents.map((a) => [a.agentId, a.wave, a.state, a.attempts])).toEqual([
      [id(1), 1, 'installed', 1],
      ...[2, 3, 4, 5, 6].map((n) => [id(n), 2, 'sent', 1]),
    ]);
    expect(agents.map((a) => updateIds(root, a).size)).toEqual([1, 1, 1, 1, 1, 1]);
    for (const a of agents.slice(1)) expect((await run(a, 0, 'poll-mail')).stdout).toMatch(/update .*: installed/);
    expect((await run(host, 0, 'rollout', 'advance')).stdout).toMatch(/: done$/m);
    expect((await status()).state).toBe('done');
  }, 240_000);
});
