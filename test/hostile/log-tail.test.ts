// A hostile agent's install-log tail (issue 10 part 2), through the real binary on the
// embedded maildir:// backend: update results signed by a registered agent whose logTail
// holds terminal escapes (CSI, OSC, CR, C1, bidi), is far over the 40-line / 4 KiB bound,
// or is not text at all. Escapes are stored as sent and reach `verify` and `agents show`
// only visibly escaped (`--json` keeps the exact value); an oversized tail is cut to its
// bound and marked LOG_TAIL_TRUNCATED; a tail that is not text makes the result MALFORMED
// (quarantined, exit 4, nothing stored).
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { LOG_TAIL_MAX_BYTES, LOG_TAIL_MAX_LINES } from '../../src/core/install/log-tail.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rdsExpect, tempDir } from '../support/cli.js';
import { writeInstallScript } from '../support/fleet.js';
import { dropMail, hostileTally, maildirCounts, payload, privateKeyOf, quarantineRows, queryState, rawMail, sign } from './helpers.js';

const { hostileCase } = hostileTally('log-tail');
const HOST_ADDRESS = 'host@example.com';
const VERSION_TEXT = 'Software Version\t1.0.00-1\n---Modules---\nabcd.exe\t1.0.00\t2002/01/01\n';
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const EVIL = [
  'clear \x1b[2J\x1b[H',
  'title \x1b]0;owned\x07',
  'ok\rFAKE: 0 of 1 agents failed',
  'csi8 \u009b31m',
  'bidi abc\u202eexe.txt',
  'No space left on device \x1b[0m',
].join('\n');

let root: string;
let host: HostNode;
let A: AgentNode;
let key: openpgp.PrivateKey;
let rolloutId: string;

const hostState = () => path.join(host.dir, 'state');
const run = (expected: number, ...args: string[]) => rdsExpect(expected, ['--config', host.config, ...args], { cwd: root });

function resultRow(): { result: string | null; result_log: string | null; result_log_note: string | null } | undefined {
  return queryState<{ result: string | null; result_log: string | null; result_log_note: string | null }>(
    hostState(),
    'SELECT result, result_log, result_log_note FROM rollout_agents WHERE rollout_id = ? AND agent_id = ?',
    rolloutId,
    A.id,
  )[0];
}

async function sendResult(logTail: unknown): Promise<void> {
  const body = {
    rolloutId,
    packageId: null,
    outcome: 'rolled-back',
    softwareVersion: '1.0.00-1',
    versionText: VERSION_TEXT,
    reason: 'install script exited with status 1',
    logTail,
  };
  const p = payload({ type: 'update-result', from: A.id, to: ['HOST'], body });
  dropMail(
    path.join(root, 'mail'),
    HOST_ADDRESS,
    rawMail({ from: 'agenta@example.com', to: HOST_ADDRESS, payloadAsc: await sign(p, key) }),
  );
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('i10s-hostile-logtail-');
  host = await initHost(root);
  A = await initAgent(root, host, { id: 'AGENTA' });
  key = await privateKeyOf(path.join(A.dir, 'keys', 'private.asc'));
  const module = path.join(root, 'main.cgi');
  fs.writeFileSync(module, 'main\n');
  const pkg = path.join(root, 'up.rdsu');
  await run(
    0,
    'pack-update',
    '--software-version',
    '1.0.02-0',
    '--script',
    writeInstallScript(root),
    '--module',
    `main.cgi=1.0.02:${module}`,
    '-o',
    pkg,
  );
  rolloutId = (JSON.parse((await run(0, '--json', 'push-all', pkg)).stdout) as { rolloutId: string }).rolloutId;
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('a hostile agent: its install-log tail', () => {
  hostileCase('escape sequences are stored as sent and never reach the terminal raw', async () => {
    await sendResult(EVIL);
    await run(0, 'inbox');
    expect(resultRow()?.result_log).toBe(EVIL);
    const verify = await run(1, 'verify', '--no-inbox');
    const show = await run(0, 'agents', 'show', A.id);
    for (const out of [verify.stdout, verify.stderr, show.stdout, show.stderr]) expect(out).not.toMatch(RAW);
    expect(verify.stdout).toContain('(log: No space left on device \\x1b[0m)');
    expect(verify.stdout).toMatch(/^1 of 1 agents failed$/m);
    expect(verify.stdout).not.toMatch(/^FAKE/m);
    expect(show.stdout).toContain('    | ok\\x0dFAKE: 0 of 1 agents failed');
    expect(show.stdout).toContain('    | bidi abc\\u202eexe.txt');
    // --json: exact value, and no C1/bidi raw either (JSON escapes C0 itself)
    const json = await run(0, '--json', 'agents', 'show', A.id);
    expect(json.stdout).not.toMatch(RAW);
    expect(JSON.parse(json.stdout).rollouts[0].logTail).toBe(EVIL);
    expect(JSON.parse((await run(1, '--json', 'verify', '--no-inbox')).stdout).agents[0].logTail).toBe(EVIL);
  });

  hostileCase('a tail far over the bound (5,000 lines, 200 KB) is cut to 40 lines / 4 KiB and marked LOG_TAIL_TRUNCATED', async () => {
    const huge = Array.from({ length: 5000 }, (_, i) => `${i} ${'x'.repeat(40)}`).join('\n');
    await sendResult(huge);
    const inbox = await run(0, 'inbox');
    expect(inbox.stderr).toContain('LOG_TAIL_TRUNCATED');
    const row = resultRow();
    expect(row?.result_log_note).toBe('LOG_TAIL_TRUNCATED');
    const lines = row?.result_log?.split('\n') ?? [];
    expect(lines.length).toBeLessThanOrEqual(LOG_TAIL_MAX_LINES);
    expect(Buffer.byteLength(row?.result_log ?? '')).toBeLessThanOrEqual(LOG_TAIL_MAX_BYTES);
    expect(lines[lines.length - 1]).toBe(`4999 ${'x'.repeat(40)}`);
    expect((await run(0, 'agents', 'show', A.id)).stdout).toContain('install log (last lines, LOG_TAIL_TRUNCATED):');
  });

  for (const [name, value] of [
    ['a number', 42],
    ['an object', { text: 'x' }],
    ['an array of lines', ['a', 'b']],
  ] as const) {
    hostileCase(`a tail that is ${name}: the result is MALFORMED, quarantined, nothing stored`, async () => {
      const before = resultRow();
      const counts = maildirCounts(path.join(root, 'mail'), HOST_ADDRESS);
      await sendResult(value);
      const r = await run(4, '--json', 'inbox');
      expect(r.stdout).toContain('MALFORMED');
      expect(quarantineRows(hostState()).at(-1)).toMatchObject({ reason_code: 'MALFORMED', reason: "update result's logTail is not text" });
      expect(resultRow()).toEqual(before);
      expect(maildirCounts(path.join(root, 'mail'), HOST_ADDRESS)).toMatchObject({ inbox: 0, quarantine: counts.quarantine + 1 });
    });
  }
});
