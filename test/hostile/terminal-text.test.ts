// Untrusted text on its way to an operator's terminal (issue 9 part 1), through the real
// binary: rows that an older rds stored as they came (or that a compromised agent got past
// a weaker check) hold ESC/OSC sequences, CR, C1 controls and bidi overrides in every field
// a listing prints. `agents list`, `faults list`, `verify` and `counters export` must show
// them visibly escaped (\x1b, \u202e), never raw, exit 0, and survive damaged rows (a time
// that is not a time, a reading that is not JSON) by marking them. `--json` keeps the exact
// value. In-process: an SNMP string from a device and a log line are neutralised too.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { decodeSnmpString } from '../../src/core/devices/index.js';
import { createLogger } from '../../src/core/logger.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rdsExpect, tempDir } from '../support/cli.js';
import { hostileTally } from './helpers.js';

const { hostileCase } = hostileTally('terminal-text');
// every class a terminal acts on: CSI, OSC (title/hyperlink), CR overwrite, 8-bit CSI, bidi
const EVIL = {
  csi: '\x1b[2J\x1b[31mRED',
  osc: '\x1b]0;owned\x07',
  cr: 'ok\rFAKE',
  c1: '\u009b31m',
  bidi: 'abc\u202eexe.txt',
  isolate: '\u2066x\u2069',
};
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

let root: string;
let host: HostNode;
let A: AgentNode;

function hostDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(path.join(host.dir, 'state', 'state.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-hostile-text-');
  host = await initHost(root);
  A = await initAgent(root, host, { id: 'AGENTA' });
  const now = new Date().toISOString();
  hostDb((db) => {
    db.prepare('UPDATE agents SET note = ?, version = ?, checked_at = ? WHERE id = ?').run(
      `${EVIL.csi} ${EVIL.bidi}`,
      `1.0.00-${EVIL.osc}`,
      now,
      A.id,
    );
    const fault = db.prepare(
      `INSERT INTO host_faults (agent_id, event_id, device_id, code, subunit, severity, source, raised_at, cleared_at, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
    );
    fault.run(A.id, 'ev-1', `mfp${EVIL.cr}`, `jam${EVIL.osc}`, `tray ${EVIL.isolate}`, 'critical', EVIL.c1, now, now);
    fault.run(A.id, 'ev-2', 'mfp-2', 'jam', '', 'warning', null, 'not a time', now);
    const reading = db.prepare(
      `INSERT INTO host_counters (agent_id, reading_id, device_id, serial, read_at, total, mono, colour, reading, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    reading.run(
      A.id,
      'r-1',
      `mfp${EVIL.bidi}`,
      EVIL.csi,
      now,
      10,
      8,
      2,
      JSON.stringify({ byService: { [`copy${EVIL.cr}`]: { total: 4 } } }),
      now,
    );
    reading.run(A.id, 'r-2', 'mfp-2', null, now, 5, null, null, '{not json', now);
  });
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function expectNeutral(stdout: string, shown: string[]): void {
  expect(RAW.exec(stdout)?.[0], 'a raw control reached the terminal').toBeUndefined();
  for (const s of shown) expect(stdout).toContain(s);
}

describe('outside text reaches the terminal escaped, never as control; damaged rows do not stop a listing', () => {
  hostileCase('agents list: an ESC sequence and a bidi override in the note, an OSC in the version', async () => {
    const r = await rdsExpect(0, ['--config', host.config, 'agents', 'list'], { cwd: root });
    expectNeutral(r.stdout, ['\\x1b[2J', '\\u202e', '\\x1b]0;owned\\x07']);
  });

  hostileCase('verify: the stored version with an OSC sequence', async () => {
    const r = await rdsExpect(1, ['--config', host.config, 'verify', '--target', '1.0.02-0'], { cwd: root });
    expectNeutral(r.stdout, ['\\x1b]0;owned\\x07']);
  });

  hostileCase('faults list: CR in the device id, OSC in the code, an isolate in the subunit; a time that is not a time', async () => {
    const r = await rdsExpect(0, ['--config', host.config, 'faults', 'list'], { cwd: root });
    expectNeutral(r.stdout, ['mfpok\\x0dFAKE', 'jam\\x1b]0;owned\\x07', '\\u2066x\\u2069', 'unreadable: not a time']);
  });

  hostileCase('counters export: a bidi device id, a CSI serial, a CR counter name; a reading that is not JSON', async () => {
    const r = await rdsExpect(0, ['--config', host.config, 'counters', 'export'], { cwd: root });
    expectNeutral(r.stdout, ['mfpabc\\u202eexe.txt', '\\x1b[2J']);
    const csv = await rdsExpect(0, ['--config', host.config, 'counters', 'export', '--csv'], { cwd: root });
    expectNeutral(csv.stdout, ['copyok\\x0dFAKE', 'unreadable']);
  });

  hostileCase('--json keeps the exact value (JSON escaping is enough there)', async () => {
    const r = await rdsExpect(0, ['--json', '--config', host.config, 'agents', 'list'], { cwd: root });
    expect(r.stdout).not.toMatch(RAW);
    expect(JSON.stringify(JSON.parse(r.stdout))).toContain(JSON.stringify(`${EVIL.csi} ${EVIL.bidi}`).slice(1, -1));
  });

  hostileCase('an SNMP string from a device: ESC, C1 and bidi escaped at decode time, line breaks made spaces', () => {
    const got = decodeSnmpString(Buffer.from(`Black\r\nToner ${EVIL.csi}${EVIL.c1}${EVIL.bidi}\0\0`, 'utf8'));
    expect(got).toBe('Black Toner \\x1b[2J\\x1b[31mRED\\x9b31mabc\\u202eexe.txt');
  });

  hostileCase('a log line: the message and its fields escaped', () => {
    const lines: string[] = [];
    createLogger('info', (l) => lines.push(l)).warn(`device ${EVIL.osc}`, { subunit: EVIL.bidi, code: EVIL.c1 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.slice(0, -1)).not.toMatch(RAW);
    expect(lines[0]).toContain('\\x1b]0;owned\\x07');
    expect(lines[0]).toContain('\\u202e');
  });
});
