// The agent's cron passes on a small box (issue 13): an empty `poll-mail` pass and a
// `watch-faults` pass with nothing new read no key and load none of openpgp, the mail
// parser or composer, the mail clients, SNMP, tar or commander (nor rds's own modules for
// those: NOT_ON_EMPTY); the same binary loads them (and does the work) as soon as there is
// mail to act on. Imports are recorded by
// test/support/record-imports.mjs, as in light-start.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentNode,
  BIN,
  cleanEnv,
  ensureBuilt,
  type HostNode,
  initAgent,
  initHost,
  ROOT,
  rdsExpect,
  tempDir,
} from '../support/cli.js';

const RECORDER = path.join(ROOT, 'test', 'support', 'record-imports.mjs');
const HEAVY = ['openpgp', 'mailparser', 'nodemailer', 'imapflow', 'node-pop3', 'net-snmp', 'tar', 'conf', 'ajv', 'echarts', 'commander'];
/**
 * rds's own modules a pass with nothing to do does not load either: commander's program and
 * the whole command table (a cron pass is read by src/launch.ts), the migrations (all applied:
 * sqlite-open.ts), keys and signing, the receive path and handlers.
 */
const NOT_ON_EMPTY = [
  'program.js',
  'commands/specs/index.js',
  'core/store/migrations.js',
  'core/store/db.js',
  'core/crypto/keys.js',
  'core/audit/checkpoint.js',
  'commands/audit-store.js', // the store closed with every audit entry signed: not opened again
  'core/outbox/send.js',
  'core/message/inbound.js',
  'core/agent/handlers.js',
  'commands/agent-handler-context.js',
];

/** Run the binary with the import recorder; its exit code, stdout and the heavy packages it loaded. */
function passImports(root: string, args: string[]): { code: number | null; stdout: string; heavy: string[]; own: string[]; lines: number } {
  const log = path.join(tempDir('rds-imports-'), 'imports.log');
  fs.writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', RECORDER, BIN, ...args], {
    cwd: root,
    env: cleanEnv({ RDS_IMPORT_LOG: log }),
    encoding: 'utf8',
  });
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const heavy = HEAVY.filter((name) => lines.some((line) => line.split(' ')[0] === name || line.includes(`/node_modules/${name}/`)));
  const own = NOT_ON_EMPTY.filter((name) => lines.some((line) => line.split(' ')[1]?.endsWith(`/dist/${name}`)));
  return { code: r.status, stdout: r.stdout, heavy, own, lines: lines.length };
}

let root: string;
let host: HostNode;
let agent: AgentNode;

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-light-pass-');
  host = await initHost(root);
  agent = await initAgent(root, host, { id: 'AGENT0001' });
  const sim = path.join(root, 'printers.json');
  const printer = { model: 'Sim', serial: 'S-1', status: 'running', reachable: true, faults: [] };
  fs.writeFileSync(sim, JSON.stringify({ format: 'rds-simulated-devices/1', devices: { printer1: printer } }));
  await rdsExpect(
    0,
    ['--config', agent.config, 'devices', 'add', '--id', 'P1', '--driver', 'simulated', '--file', sim, '--name', 'printer1'],
    {
      cwd: root,
    },
  );
  // the first pass sends the day's heartbeat (it signs); the passes below have nothing to say
  await rdsExpect(0, ['--config', agent.config, 'watch-faults'], { cwd: root });
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('an agent pass with nothing to do loads nothing heavy', () => {
  it('an empty poll-mail pass: no mail, exit 0, none of openpgp, mailparser, nodemailer, mail clients, tar, conf/ajv', () => {
    const r = passImports(root, ['--config', agent.config, 'poll-mail']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('no mail');
    expect(r.lines).toBeGreaterThan(20); // the recorder saw the binary's imports
    expect(r.heavy).toEqual([]);
    expect(r.own).toEqual([]);
  });

  it('a watch-faults pass over one simulated device with nothing new: exit 0, nothing heavy', () => {
    const r = passImports(root, ['--config', agent.config, 'watch-faults']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('1 device(s) polled, nothing new');
    expect(r.heavy).toEqual([]);
    expect(r.own).toEqual([]);
  });

  it('a poll-mail pass with mail waiting loads openpgp and the sender, and answers it (the check can fail)', async () => {
    await rdsExpect(0, ['--config', host.config, 'request-versions', '--agents', agent.id], { cwd: root });
    const r = passImports(root, ['--json', '--config', agent.config, 'poll-mail']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { processed: { type: string }[]; mail: { sent: number } };
    expect(out.processed.map((p) => p.type)).toEqual(['version-request']);
    expect(out.mail.sent).toBe(1); // the version report went out
    // rds's own mail shape is read by mail-fast.ts, so mailparser stays unloaded for it
    expect(r.heavy).toEqual(expect.arrayContaining(['openpgp', 'nodemailer']));
    // the list of own modules can fail: a pass with mail loads the receive path and handlers
    expect(r.own).toEqual(expect.arrayContaining(['core/message/inbound.js', 'core/agent/handlers.js', 'core/crypto/keys.js']));
  });

  // stdout is written to fd 1 directly (commands/output.ts), process.stdout only by commander
  it.each([
    ['an empty poll-mail pass', ['poll-mail']],
    ['poll-mail --help (commander)', ['poll-mail', '--help']],
  ])('%s whose reader closed stdout before it wrote: exit 0, nothing on stderr', async (_what, args) => {
    const child = spawn(process.execPath, [BIN, '--config', agent.config, ...args], {
      cwd: root,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the read end is closed: rds's write meets EPIPE
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('a command line the pass reader leaves alone goes to commander (the same binary loads it)', () => {
    const r = passImports(root, ['--config', agent.config, 'poll-mail', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: rds poll-mail');
    expect(r.heavy).toEqual(['commander']);
    expect(r.own).toEqual(['program.js', 'commands/specs/index.js']);
  });
});
