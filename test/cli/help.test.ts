// `rds --help` lists every command of docs/commands.md (and the subcommands of each group), so
// nothing in the contract can silently drop out of the CLI.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, rds } from '../support/cli.js';

/** docs/commands.md: top-level commands, and the subcommands of each command group. */
const TOP_LEVEL = [
  // agent
  'watch-faults',
  'collect-counters',
  'poll-mail',
  'apply-update',
  'versions',
  'devices',
  'heartbeat',
  // host
  'pack-update',
  'push-all',
  'export-update',
  'request-versions',
  'verify',
  'rollouts',
  'inbox',
  'request-counters',
  'agents',
  'faults',
  'counters',
  'supplies',
  'alerts',
  'store',
  // shared
  'init',
  'keys',
  'demo',
  'outbox',
  'doctor',
  'quarantine',
];
const GROUPS: Record<string, string[]> = {
  devices: ['add', 'list', 'remove', 'discover'],
  agents: ['add', 'list', 'show', 'remove', 'import'],
  faults: ['list'],
  counters: ['export'],
  supplies: ['list'],
  alerts: ['test', 'feed'],
  store: ['migrate'],
  keys: ['export', 'show'],
  outbox: ['list', 'retry', 'drop'],
  quarantine: ['list', 'show', 'release'],
};

/** Command names in commander's "Commands:" section. */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:\s*$/m)[1] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}(\S+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

beforeAll(() => ensureBuilt(), 120_000);

describe('rds --help', () => {
  it('lists every command of docs/commands.md, and exits 0', async () => {
    const r = await rds(['--help'], { cwd: ROOT });
    expect(r.code).toBe(0);
    for (const flag of ['--config', '--json', '--quiet', '--verbose']) expect(r.stdout).toContain(flag);
    const listed = commandsIn(r.stdout);
    const missing = TOP_LEVEL.filter((name) => !listed.includes(name));
    for (const [group, subs] of Object.entries(GROUPS)) {
      if (!listed.includes(group)) continue; // already reported missing
      const g = await rds([group, '--help'], { cwd: ROOT });
      expect(g.code, `rds ${group} --help`).toBe(0);
      const subListed = commandsIn(g.stdout);
      for (const sub of subs) if (!subListed.includes(sub)) missing.push(`${group} ${sub}`);
    }
    expect(missing, 'commands of docs/commands.md missing from --help').toEqual([]);
  });

  it('`rds --version` prints the version and exits 0', async () => {
    const r = await rds(['--version'], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
