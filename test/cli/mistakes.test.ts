// The usual mistakes of a first day (issue 10 §1), generated rather than listed one by one:
// every command that takes a path gets a missing one, a folder, and one under a plain file;
// every time option gets text that is no time; every id argument gets ids that name nothing
// (and hostile ones); and the validations that must refuse at once. Each must give exit 2
// and ONE line on stderr naming the mistake, never "this is a bug" or a stack trace.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentNode, BIN, cleanEnv, ensureBuilt, type HostNode, initAgent, initHost, rds, tempDir } from '../support/cli.js';
import { writeInstallScript } from '../support/fleet.js';

let root: string;
let host: HostNode;
let agent: AgentNode;

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('i10x-mistakes-');
  host = await initHost(root);
  agent = await initAgent(root, host, { id: 'AGENT0000001' });
  fs.mkdirSync(path.join(root, 'a-folder'), { mode: 0o700 });
  fs.writeFileSync(path.join(root, 'plain.txt'), 'not a folder\n', { mode: 0o600 });
  writeInstallScript(root);
  fs.writeFileSync(path.join(root, 'no-key.csv'), `id,address,key\nAGENT0000002,a2@example.com,${path.join(root, 'nowhere.asc')}\n`, {
    mode: 0o600,
  });
}, 120_000);

type Node = 'host' | 'agent';
interface Mistake {
  what: string;
  node: Node;
  args: (p: string) => string[];
  /** a folder is a fine value here (a module may be a folder) */
  folderOk?: boolean;
}

/** Paths that are wrong in the three ordinary ways. */
const BAD_PATHS: [string, () => string][] = [
  ['a missing path', () => path.join(root, 'nowhere', 'x')],
  ['a folder', () => path.join(root, 'a-folder')],
  ['a path under a plain file', () => path.join(root, 'plain.txt', 'x')],
];

const PATH_TAKERS: Mistake[] = [
  { what: 'agents import FILE', node: 'host', args: (p) => ['agents', 'import', p] },
  {
    what: 'agents add --key FILE',
    node: 'host',
    args: (p) => ['agents', 'add', '--id', 'AGENT0000009', '--address', 'a9@example.com', '--key', p],
  },
  { what: 'push-all FILE', node: 'host', args: (p) => ['push-all', p] },
  { what: 'pack-update --script FILE', node: 'host', args: (p) => ['pack-update', '--software-version', '1.0.01-0', '--script', p] },
  {
    what: 'pack-update -o FILE',
    node: 'host',
    args: (p) => ['pack-update', '--software-version', '1.0.01-0', '--script', path.join(root, 'install.sh'), '-o', p],
  },
  {
    what: 'pack-update --module NAME=V:PATH',
    node: 'host',
    args: (p) => ['pack-update', '--software-version', '1.0.01-0', '--script', path.join(root, 'install.sh'), '--module', `m=1.0.01:${p}`],
    folderOk: true,
  },
  { what: 'apply-update FILE', node: 'agent', args: (p) => ['apply-update', p] },
];

const BAD_TIMES = ['yesterday', '-5m', '5x', '2026-13-45', 'soon'];
const TIME_TAKERS: Mistake[] = [
  { what: 'counters export --since', node: 'host', args: (t) => ['counters', 'export', '--since', t] },
  { what: 'verify --wait', node: 'host', args: (t) => ['verify', '--wait', t] },
  { what: 'request-versions --wait', node: 'host', args: (t) => ['request-versions', '--wait', t] },
  { what: 'request-counters --wait', node: 'host', args: (t) => ['request-counters', '--wait', t] },
  { what: 'inbox --every', node: 'host', args: (t) => ['inbox', '--every', t] },
  { what: 'watch-faults --every', node: 'agent', args: (t) => ['watch-faults', '--every', t] },
  { what: 'poll-mail --every', node: 'agent', args: (t) => ['poll-mail', '--every', t] },
];

const BAD_IDS = ['nosuch', 'R20990101000000-deadbeef', '../../etc/passwd', "x'; DROP TABLE agents;--", '#999999'];
const ID_TAKERS: Mistake[] = [
  { what: 'agents remove ID', node: 'host', args: (id) => ['agents', 'remove', id] },
  { what: 'verify --rollout ID', node: 'host', args: (id) => ['verify', '--rollout', id] },
  { what: 'push-all --retry-failed ID', node: 'host', args: (id) => ['push-all', '--retry-failed', id] },
  { what: 'outbox retry ID (host)', node: 'host', args: (id) => ['outbox', 'retry', id] },
  { what: 'outbox drop ID (agent)', node: 'agent', args: (id) => ['outbox', 'drop', id] },
  { what: 'devices remove ID', node: 'agent', args: (id) => ['devices', 'remove', id] },
];

const REFUSED_INPUT: [string, Node, () => string[]][] = [
  ['verify --target bad', 'host', () => ['verify', '--target', 'bad']],
  ['verify --target 1.0', 'host', () => ['verify', '--target', '1.0']],
  [
    'agents add --address not-an-address',
    'host',
    () => ['agents', 'add', '--id', 'AGENT0000009', '--address', 'not-an-address', '--key', agent.publicKeyFile],
  ],
  [
    'agents add --address "a b@example.com"',
    'host',
    () => ['agents', 'add', '--id', 'AGENT0000009', '--address', 'a b@example.com', '--key', agent.publicKeyFile],
  ],
  [
    "agents add with the host's own key",
    'host',
    () => ['agents', 'add', '--id', 'AGENT0000009', '--address', 'a9@example.com', '--key', host.publicKeyFile],
  ],
  ['agents import with a missing key file', 'host', () => ['agents', 'import', path.join(root, 'no-key.csv')]],
  ['push-all install.sh (not a package)', 'host', () => ['push-all', path.join(root, 'install.sh')]],
  ["devices add --address 'not a host::'", 'agent', () => ['devices', 'add', '--id', 'd1', '--address', 'not a host::']],
  ['devices add --address [zz::1]:161', 'agent', () => ['devices', 'add', '--id', 'd1', '--address', '[zz::1]:161']],
  ['devices add --address host:99999', 'agent', () => ['devices', 'add', '--id', 'd1', '--address', 'printer.example:99999']],
];

const configOf = (node: Node) => (node === 'host' ? host.config : agent.config);

function expectOneLine(r: { code: number | null; stdout: string; stderr: string }, what: string) {
  expect(r.code, `${what}\n${r.stdout}${r.stderr}`).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, what).toHaveLength(1);
  expect(lines[0], what).toMatch(/^rds: \S/);
  expect(r.stderr, what).not.toMatch(/this is a bug|\n\s+at |Error:/);
}

const cases = [
  ...PATH_TAKERS.flatMap((m) =>
    BAD_PATHS.filter(([kind]) => !(m.folderOk && kind === 'a folder')).map(
      ([kind, p]) => [`${m.what} with ${kind}`, m.node, () => m.args(p())] as const,
    ),
  ),
  ...TIME_TAKERS.flatMap((m) => BAD_TIMES.map((t) => [`${m.what} '${t}'`, m.node, () => m.args(t)] as const)),
  ...ID_TAKERS.flatMap((m) => BAD_IDS.map((id) => [`${m.what} '${id}'`, m.node, () => m.args(id)] as const)),
  ...REFUSED_INPUT,
];

describe('ordinary mistakes: exit 2, one line, no stack', () => {
  it.each(cases.map((c) => [c[0], c[1], c[2]] as [string, Node, () => string[]]))('%s', async (what, node, args) => {
    const r = await rds(['--config', configOf(node), ...args()], { cwd: root });
    expectOneLine(r, what);
  });

  it('nothing was sent or registered by any of them', async () => {
    const list = await rds(['--config', host.config, '--json', 'agents', 'list'], { cwd: root });
    expect(JSON.parse(list.stdout).agents.map((a: { id: string }) => a.id)).toEqual(['AGENT0000001']);
    const outbox = await rds(['--config', host.config, '--json', 'outbox', 'list'], { cwd: root });
    expect(JSON.parse(outbox.stdout).queued).toBe(0);
  });

  it.each(BAD_PATHS)('--config with %s names the fix', async (_kind, p) => {
    const r = await rds(['--config', p(), 'agents', 'list'], { cwd: root });
    expectOneLine(r, 'config');
  });

  it('no config at all: "set RDS_CONFIG or pass --config"', async () => {
    const home = path.join(root, 'empty-home');
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const r = await rds(['agents', 'list'], { cwd: root, env: { HOME: home, XDG_CONFIG_HOME: undefined } });
    expectOneLine(r, 'no config');
    expect(r.stderr).toContain('set RDS_CONFIG or pass --config');
  });

  it('a state dir this user cannot write: one line naming it (run as nobody)', () => {
    if (process.getuid?.() !== 0) throw new Error('this case switches to the user nobody: run it as root (CI does)');
    const dir = tempDir('i10x-mistakes-nobody-');
    fs.chmodSync(dir, 0o755);
    const stateDir = path.join(dir, 'root-only');
    fs.mkdirSync(stateDir, { mode: 0o700 });
    // nobody's own config and key (0600 in a 0700 folder, as rds writes them); only the state dir is root's
    const mine = path.join(dir, 'nobody');
    fs.mkdirSync(mine, { mode: 0o700 });
    const config = JSON.parse(fs.readFileSync(host.config, 'utf8'));
    config.stateDir = path.join(stateDir, 'state');
    config.keyFile = path.join(mine, 'private.asc');
    fs.copyFileSync(host.keyFile, config.keyFile);
    fs.chmodSync(config.keyFile, 0o600);
    const own = path.join(mine, 'config.json');
    fs.writeFileSync(own, JSON.stringify(config), { mode: 0o600 });
    for (const f of [mine, own, config.keyFile]) fs.chownSync(f, 65534, 65534);
    const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, BIN, '--config', own, 'agents', 'list'], {
      env: cleanEnv({ HOME: dir }),
      encoding: 'utf8',
      cwd: dir,
    });
    expectOneLine({ code: r.status, stdout: r.stdout, stderr: r.stderr }, 'unwritable state dir');
    expect(r.stderr).toContain(config.stateDir);
  });
});

describe('usage errors under --json are data too', () => {
  it.each([
    ['an unknown command', ['no-such-command'], 'UNKNOWN_COMMAND'],
    ['an unknown option', ['agents', 'list', '--bogus'], 'UNKNOWN_OPTION'],
    ['a missing option', ['agents', 'add', '--id', 'X'], 'MISSING_MANDATORY_OPTION_VALUE'],
    ['a bad value', ['verify', '--target', 'bad'], 'BAD_VERSION'],
  ])('%s: {"error": {"code", "message"}} on stdout, exit 2', async (_what, args, code) => {
    const r = await rds(['--json', '--config', host.config, ...args], { cwd: root });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.code).toBe(code);
    expect(doc.error.message).toMatch(/\S/);
  });
});
