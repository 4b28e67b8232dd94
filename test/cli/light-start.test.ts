// `rds --version` and `rds --help` read only the command table: cron on a small box pays
// start-up every minute, so neither may load openpgp, the mail clients, SNMP or SQLite.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, ensureBuilt, ROOT, tempDir } from '../support/cli.js';

const RECORDER = path.join(ROOT, 'test', 'support', 'record-imports.mjs');
const HEAVY = ['openpgp', 'imapflow', 'net-snmp', 'better-sqlite3', 'nodemailer', 'echarts'];

/** Run node with the import recorder; return every resolved specifier and the exit code. */
function imports(args: string[]): { code: number | null; lines: string[] } {
  const log = path.join(tempDir('rds-imports-'), 'imports.log');
  fs.writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', RECORDER, ...args], {
    cwd: ROOT,
    env: cleanEnv({ RDS_IMPORT_LOG: log }),
    encoding: 'utf8',
  });
  return { code: r.status, lines: fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

const heavyIn = (lines: string[]) =>
  lines.filter((line) => HEAVY.some((name) => line.split(' ')[0] === name || line.includes(`/node_modules/${name}/`)));

beforeAll(() => ensureBuilt(), 120_000);

describe('start-up cost', () => {
  it('the recorder sees a heavy import when there is one (the check can fail)', () => {
    const r = imports(['--input-type=module', '-e', "await import('openpgp')"]);
    expect(r.code).toBe(0);
    expect(heavyIn(r.lines).length).toBeGreaterThan(0);
  });

  it.each(['--version', '--help', 'agents --help', 'push-all --help', 'report --help'])(
    'rds %s loads none of openpgp, imapflow, net-snmp, better-sqlite3, nodemailer, echarts',
    (line) => {
      const r = imports([BIN, ...line.split(' ')]);
      expect(r.code).toBe(0);
      expect(r.lines.some((l) => l.includes('/dist/cli.js'))).toBe(true);
      expect(heavyIn(r.lines)).toEqual([]);
    },
  );
});
