// `rds quarantine list|show|release` (issue 10 part 3) on the embedded maildir:// backend:
// a report from an agent the host does not know yet is quarantined (UNKNOWN_SENDER); once
// the agent is registered, release moves it back to the inbox and the next `rds inbox`
// takes it in through every check. A refusal re-checking cannot cure (a bad signature)
// is never released; nothing is deleted on the way.
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropMail, maildirCounts, payload, privateKeyOf, rawMail, sign, tamperedSignature } from '../hostile/helpers.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rdsExpect, tempDir } from '../support/cli.js';

const HOST_ADDRESS = 'host@example.com';
const VERSION_TEXT = 'Software Version\t1.0.00-1\n---Modules---\nabcd.exe\t1.0.00\t2002/01/01\n';

let root: string;
let host: HostNode;
let late: AgentNode;
let key: openpgp.PrivateKey;

const run = (node: { config: string }, expected: number, ...args: string[]) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root });
const counts = () => maildirCounts(path.join(root, 'mail'), HOST_ADDRESS);
const report = () =>
  payload({ type: 'version-report', from: late.id, to: ['HOST'], body: { softwareVersion: '1.0.00-1', versionText: VERSION_TEXT } });
const mailOf = (payloadAsc: string) =>
  rawMail({ from: 'agent0000009@example.com', to: HOST_ADDRESS, subject: '[rds] version report', payloadAsc });
const register = () => run(host, 0, 'agents', 'add', '--id', late.id, '--address', 'agent0000009@example.com', '--key', late.publicKeyFile);

beforeAll(() => ensureBuilt());

// Every test starts from its own world (order does not matter, --sequence.shuffle): a host,
// and a report from an agent it does not know yet, quarantined as record 1.
beforeEach(async () => {
  root = tempDir('i10s-quarantine-');
  host = await initHost(root);
  late = await initAgent(root, host, { id: 'AGENT0000009', register: false });
  key = await privateKeyOf(path.join(late.dir, 'keys', 'private.asc'));
  dropMail(path.join(root, 'mail'), HOST_ADDRESS, mailOf(await sign(report(), key)));
  await run(host, 4, 'inbox');
}, 120_000);

afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('rds quarantine', () => {
  it('list --json: the record, why, and that a release could help', async () => {
    const { quarantine } = JSON.parse((await run(host, 0, '--json', 'quarantine', 'list')).stdout);
    expect(quarantine).toHaveLength(1);
    expect(quarantine[0]).toMatchObject({
      id: 1,
      code: 'UNKNOWN_SENDER',
      from: 'agent0000009@example.com',
      subject: '[rds] version report',
      releasedAt: null,
      releasable: true,
    });
  });

  it('list: a table row per record', async () => {
    const lines = (await run(host, 0, 'quarantine', 'list')).stdout.trimEnd().split('\n');
    expect(lines[0]?.split(/\s{3,}/)).toEqual(['ID', 'Received (UTC)', 'Code', 'From', 'Subject', 'State']);
    expect(lines[1]?.split(/\s{3,}/)).toEqual([
      '1',
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/),
      'UNKNOWN_SENDER',
      'agent0000009@example.com',
      '[rds] version report',
      'releasable',
    ]);
  });

  it('show: the record and where the mail is in the quarantine folder', async () => {
    const r = await run(host, 0, 'quarantine', 'show', '1');
    expect(r.stdout).toMatch(/^ {2}code +UNKNOWN_SENDER$/m);
    expect(r.stdout).toMatch(/^ {2}mail +\/.*\/\.rds-quarantine\/cur\/[^/]+:2,S$/m);
    expect(r.stdout).toContain('releasable: fix the cause, then rds quarantine release 1');
    const data = JSON.parse((await run(host, 0, '--json', 'quarantine', 'show', '1')).stdout);
    expect(data.mail).toMatchObject({ folder: 'rds-quarantine', present: true });
    expect(fs.readFileSync(data.mail.reasonFile, 'utf8')).toMatch(/^UNKNOWN_SENDER: /);
  });

  it('release before the agent is registered: exit 2, one line naming the fix, the mail stays', async () => {
    const before = counts();
    const r = await run(host, 2, 'quarantine', 'release', '1');
    expect(r.stderr.trim().split('\n')).toEqual([
      'rds: no agent is registered with address agent0000009@example.com yet: rds agents add first, then release 1',
    ]);
    expect(counts()).toEqual(before);
  });

  it('after registering: release moves it to the inbox and rds inbox takes it in through every check', async () => {
    await register();
    const before = counts();
    const r = await run(host, 0, 'quarantine', 'release', '1');
    expect(r.stdout.trim()).toBe(
      'released quarantined mail 1 (UNKNOWN_SENDER) to the inbox: the next `rds inbox` checks it again like new mail',
    );
    expect(counts()).toEqual({ ...before, inbox: 1, quarantine: before.quarantine - 1 });
    const inbox = JSON.parse((await run(host, 0, '--json', 'inbox')).stdout);
    expect(inbox.processed).toEqual([expect.objectContaining({ type: 'version-report', from: late.id })]);
    const agents = JSON.parse((await run(host, 0, '--json', 'agents', 'list')).stdout).agents;
    expect(agents).toEqual([expect.objectContaining({ id: late.id, version: '1.0.00-1' })]);
    const { quarantine } = JSON.parse((await run(host, 0, '--json', 'quarantine', 'list')).stdout);
    expect(quarantine[0]).toMatchObject({ id: 1, releasable: false, releasedAt: expect.any(String) });
    expect((await run(host, 0, 'quarantine', 'show', '1')).stdout).toMatch(/^ {2}mail +not in rds-quarantine any more$/m);
  });

  it('a second release of the same record: exit 2', async () => {
    await register();
    await run(host, 0, 'quarantine', 'release', '1');
    const r = await run(host, 2, 'quarantine', 'release', '1');
    expect(r.stderr).toMatch(/^rds: quarantined mail 1 was released already \(.+\)\n$/);
  });

  it('a bad signature is never released: exit 2 naming the code, the mail stays in quarantine', async () => {
    await register(); // a known sender: the signature is what is checked
    dropMail(path.join(root, 'mail'), HOST_ADDRESS, mailOf(await tamperedSignature(report(), key, '1.0.00-1', '1.0.00-2')));
    await run(host, 4, 'inbox');
    const { quarantine } = JSON.parse((await run(host, 0, '--json', 'quarantine', 'list')).stdout);
    expect(quarantine[0]).toMatchObject({ id: 2, code: 'BAD_SIGNATURE', releasable: false });
    const before = counts();
    const r = await run(host, 2, 'quarantine', 'release', '2');
    expect(r.stderr.trim().split('\n')).toEqual([
      'rds: quarantined mail 2 was refused for BAD_SIGNATURE, which re-checking cannot cure; it stays in rds-quarantine',
    ]);
    expect(counts()).toEqual(before);
    expect((await run(host, 0, 'quarantine', 'show', '2')).stdout).toContain('kept: re-checking cannot cure BAD_SIGNATURE');
  });

  for (const [arg, message] of [
    ['abc', 'rds: "abc" is not a quarantine id (a number from rds quarantine list)'],
    ['0', 'rds: "0" is not a quarantine id (a number from rds quarantine list)'],
    ['99', 'rds: no quarantined mail 99 (rds quarantine list shows the ids)'],
  ] as const) {
    it(`show and release ${arg}: one line, exit 2`, async () => {
      for (const verb of ['show', 'release']) {
        const r = await run(host, 2, 'quarantine', verb, arg);
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toEqual([message]);
      }
    });
  }

  it('on an agent: the same commands; nothing quarantined yet', async () => {
    expect((await run(late, 0, 'quarantine', 'list')).stdout.trim()).toBe('nothing quarantined');
    expect(JSON.parse((await run(late, 0, '--json', 'quarantine', 'list')).stdout)).toEqual({ quarantine: [] });
  });
});
