// `rds inbox --worker` and `rds rollout advance --worker` (docs/deployment.md#workers), on the
// embedded maildir:// backend with the real binary: while another live process holds the
// host's `mailbox` lock, a plain pass is locked out (exit 3) and a worker takes the mail in,
// each report once; the lock stays with its holder.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatVersionText } from '../../src/core/version/version-text.js';
import { deliverFromAgent } from '../support/agent-reports.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rdsExpect, tempDir } from '../support/cli.js';

let root: string;
let host: HostNode;
let agent: AgentNode;
const run = (expected: number, ...args: string[]) => rdsExpect(expected, ['--config', host.config, ...args], { cwd: root });
const lockFile = () => path.join(host.dir, 'state', 'locks', 'mailbox.lock');

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-workers-cli-');
  host = await initHost(root);
  agent = await initAgent(root, host, { id: 'AGENT0000001' });
  const versionText = formatVersionText({
    softwareVersion: '1.0.01-1',
    modules: [{ name: 'main.cgi', version: '1.0.01', date: '2026/12/01' }],
  });
  for (let i = 0; i < 3; i++) await deliverFromAgent(root, agent, 'version-report', { softwareVersion: '1.0.01-1', versionText });
  // the mailbox held by a live process (this test's): as a long plain `rds inbox` would
  fs.mkdirSync(path.dirname(lockFile()), { recursive: true, mode: 0o700 });
  fs.writeFileSync(lockFile(), `${process.pid} inbox`, { mode: 0o600 });
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('inbox workers', () => {
  it('a plain inbox is locked out while another pass holds the mailbox: exit 3, nothing taken in', async () => {
    const r = await run(3, 'inbox');
    expect(r.stderr).toContain(`another 'inbox' pass is running (pid ${process.pid})`);
  });

  it('inbox --worker takes the mail in next to it, each report once, and leaves the lock to its holder', async () => {
    const r = await run(0, '--json', 'inbox', '--worker');
    const data = JSON.parse(r.stdout);
    expect(data.processed.map((p: { type: string }) => p.type)).toEqual(['version-report', 'version-report', 'version-report']);
    expect(data.alreadyDone).toEqual([]);
    expect(data.quarantined).toEqual([]);
    expect(fs.readFileSync(lockFile(), 'utf8')).toBe(`${process.pid} inbox`);
    const again = JSON.parse((await run(0, '--json', 'inbox', '--worker')).stdout);
    expect(again.processed).toEqual([]);
  });

  it('rollout advance --worker runs next to the holder too', async () => {
    const r = await run(0, 'rollout', 'advance', '--worker');
    expect(r.stdout.trim()).toBe('nothing to do');
  });
});
