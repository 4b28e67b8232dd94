// push-all to enough agents that the per-agent crypto runs in worker threads
// (src/core/host/push-crypto.ts, WORKER_THRESHOLD): the real binary on maildir://, a host
// and 18 agents: three real ones (the first, one between, the last: each opens its own mail
// and installs, i.e. its session key was wrapped for its key and the payload signed by the
// host key, by the agent's own checks) and 15 registered with keys made here (rds agents
// import), whose mails are counted. A registered key that is no key stops the push with the in-thread
// path's error (BAD_KEY, exit 2, naming the agent), not a pass.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/core/crypto/keys.js';
import { EXIT } from '../../src/core/errors.js';
import { WORKER_THRESHOLD } from '../../src/core/host/push-crypto.js';
import { mailboxDir } from '../../src/core/mail/maildir-layout.js';
import { type AgentNode, currentRelease, ensureBuilt, type HostNode, initAgent, initHost, rdsExpect, tempDir } from '../support/cli.js';
import { writeInstallScript } from '../support/fleet.js';

const AGENTS = WORKER_THRESHOLD + 2;
const REAL = [1, 9, AGENTS];
const id = (n: number) => `AGENT${String(n).padStart(7, '0')}`;

async function pack(root: string, host: HostNode): Promise<string> {
  const pkg = path.join(root, 'up.rdsu');
  const module = path.join(root, 'main.cgi');
  fs.writeFileSync(module, 'main 1.0.02\n');
  const script = writeInstallScript(root);
  await rdsExpect(
    0,
    [
      '--config',
      host.config,
      'pack-update',
      '--software-version',
      '1.0.02-0',
      '--script',
      script,
      '--module',
      `main.cgi=1.0.02:${module}`,
      '-o',
      pkg,
    ],
    { cwd: root },
  );
  return pkg;
}

describe(`push-all to ${AGENTS} agents (crypto in worker threads)`, () => {
  let root: string;
  let host: HostNode;
  let agents: AgentNode[];
  let pkg: string;

  beforeAll(async () => {
    ensureBuilt();
    root = tempDir('rds-push-workers-');
    host = await initHost(root);
    agents = [];
    const entries = [];
    for (let i = 1; i <= AGENTS; i++) {
      if (REAL.includes(i)) agents.push(await initAgent(root, host, { id: id(i) }));
      else
        entries.push({
          id: id(i),
          address: `${id(i).toLowerCase()}@example.com`,
          key: (await generateKeyPair(id(i), 'a@example.com')).publicArmored,
        });
    }
    const file = path.join(root, 'agents.json');
    fs.writeFileSync(file, JSON.stringify(entries));
    await rdsExpect(EXIT.OK, ['--config', host.config, 'agents', 'import', file], { cwd: root });
    pkg = await pack(root, host);
  }, 600_000);

  it('every agent gets one mail; the real ones open theirs and install', async () => {
    const push = await rdsExpect(EXIT.OK, ['--config', host.config, 'push-all', pkg], { cwd: root });
    expect(push.stdout).toContain(`sent to ${AGENTS} of ${AGENTS} agents`);
    for (let i = 1; i <= AGENTS; i++) {
      const box = path.join(mailboxDir(path.join(root, 'mail'), `${id(i).toLowerCase()}@example.com`), 'new');
      expect(fs.readdirSync(box), id(i)).toHaveLength(1);
    }
    for (const agent of agents) {
      await rdsExpect(EXIT.OK, ['--config', agent.config, 'poll-mail'], { cwd: root });
      expect(currentRelease(agent)).toContain('1.0.02-0');
    }
    await rdsExpect(EXIT.OK, ['--config', host.config, 'inbox'], { cwd: root });
    // the 15 agents made here never answer: verify fails for them (exit 1), not for the real ones
    const verify = await rdsExpect(EXIT.FAILED, ['--config', host.config, '--json', 'verify', '--no-inbox'], { cwd: root });
    const rows = JSON.parse(verify.stdout).agents as { agentId: string; failed: boolean; reason: string | null }[];
    expect(rows.filter((r) => !r.failed).map((r) => r.agentId)).toEqual(agents.map((a) => a.id));
    expect(rows.filter((r) => r.failed).every((r) => r.reason === 'no-reply')).toBe(true);
  });

  it('a registered key that is no key stops the push with BAD_KEY naming the agent', async () => {
    const db = new Database(path.join(host.dir, 'state', 'state.db'));
    try {
      db.prepare('UPDATE agents SET public_key = ? WHERE id = ?').run('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n', id(AGENTS));
    } finally {
      db.close();
    }
    const push = await rdsExpect(EXIT.USAGE, ['--config', host.config, 'push-all', pkg], { cwd: root });
    expect(push.stderr).toContain(`key of ${id(AGENTS)}: not an armored OpenPGP public key`);
  });
});
