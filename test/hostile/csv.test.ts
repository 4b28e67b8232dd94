// CSV that spreadsheets open safely (issue 9 part 2): what a compromised agent stored (a
// formula as a serial, a counter name with a comma and a line break) comes out of the real
// `rds counters export --csv` as one record per reading, every record with the header's
// field count and no cell a spreadsheet would run as a formula; `rds agents import` reads
// quoted fields (commas, line breaks) with csv-parse instead of splitting lines by hand.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect } from 'vitest';
import { ensureBuilt, type HostNode, initAgent, initHost, rds, tempDir } from '../support/cli.js';
import { hostileTally } from './helpers.js';

const { hostileCase } = hostileTally('csv');

let root: string;
let host: HostNode;

function storeReading(id: string, serial: string, services: Record<string, number>): void {
  const db = new Database(path.join(host.dir, 'state', 'state.db'), { fileMustExist: true });
  try {
    const byService = Object.fromEntries(Object.entries(services).map(([k, v]) => [k, { total: v }]));
    db.prepare(
      'INSERT INTO host_counters (agent_id, reading_id, device_id, serial, read_at, total, mono, colour, reading, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      'A1',
      id,
      '@dev',
      serial,
      '2026-11-02T10:00:00.000Z',
      10,
      5,
      5,
      JSON.stringify({ byService, flags: ['-x'] }),
      '2026-11-02T10:00:00.000Z',
    );
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir('rds-hostile-csv-');
  host = await initHost(root);
  storeReading('r1', '=HYPERLINK("http://x")', { 'print,x\ninjected': 7, '+sum': 1 });
  storeReading('r2', 'SN-2', { copy: 3 });
}, 60_000);

describe('counters export --csv: formulas and separators from agents stay data', () => {
  hostileCase('a formula serial and a counter name with a comma and newline', async () => {
    const r = await rds(['--config', host.config, 'counters', 'export', '--csv'], { cwd: root });
    expect(r.code).toBe(0);
    const records = parse(r.stdout, { relax_column_count: true }) as string[][];
    const header = records[0] as string[];
    expect(records).toHaveLength(3);
    expect(header).toContain('service:print,x\ninjected');
    for (const record of records) {
      expect(record).toHaveLength(header.length);
      for (const cell of record) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
    expect(records[1]).toContain('\'=HYPERLINK("http://x")');
    expect(header).toContain('service:+sum');
  });
});

describe('agents import: quoted CSV fields are read whole', () => {
  hostileCase(
    'a quoted note with a comma and a line break does not split the record',
    async () => {
      const agent = await initAgent(root, host, { id: 'IMP1', register: false });
      const key = path.relative(root, agent.publicKeyFile);
      const file = path.join(root, 'fleet.csv');
      fs.writeFileSync(file, `id,address,key,note\nIMP1,imp1@example.com,${key},"Floor 2, room 7\nnear the lift"\n`);
      const r = await rds(['--config', host.config, 'agents', 'import', file, '--json'], { cwd: root });
      expect(r.code).toBe(0);
      const list = await rds(['--config', host.config, 'agents', 'list', '--json'], { cwd: root });
      const agents = JSON.parse(list.stdout) as { agents?: { id: string; note: string }[] } | { id: string; note: string }[];
      const rows = Array.isArray(agents) ? agents : (agents.agents ?? []);
      expect(rows.find((a) => a.id === 'IMP1')?.note).toBe('Floor 2, room 7\nnear the lift');
    },
    60_000,
  );

  hostileCase('an unterminated quote is a usage error naming the file (exit 2)', async () => {
    const file = path.join(root, 'broken.csv');
    fs.writeFileSync(file, 'id,address,key\n"IMP2,imp2@example.com,x.asc\n');
    const r = await rds(['--config', host.config, 'agents', 'import', file], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('broken.csv');
  });
});
