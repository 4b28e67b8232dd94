// Tables line up by display width, not code points: the original system's customer notes
// (`aaa商事株式会社`, `kkk通信(1F)`) and emoji take two terminal columns a character, and
// every column after them still starts at the same column in every row (measured here with
// string-width, as a terminal draws it). Times are the operator's (TZ), the zone named once
// in the header; --json stays ISO-8601 UTC.
import stringWidth from 'string-width';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rdsExpect, tempDir } from '../support/cli.js';

const NOTES = ['aaa商事株式会社', 'kkk通信(1F)', '🖨️ 2F プリンタ 👩‍💻', 'plain ascii'];

let root: string;
let host: HostNode;
const agents: AgentNode[] = [];

const run = (node: { config: string }, expected: number, args: string[], env?: Record<string, string>) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root, ...(env ? { env } : {}) });

/** Display column where each cell starts (cells found left to right); the line must hold them all. */
function starts(line: string, cells: string[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const cell of cells) {
    const i = line.indexOf(cell, at);
    if (i < 0) throw new Error(`'${cell}' not in '${line}' after ${at}`);
    out.push(stringWidth(line.slice(0, i)));
    at = i + cell.length;
  }
  return out;
}

/** Every row's cells start where the header's do. */
function expectAligned(lines: string[], header: string[], rows: string[][]): void {
  const want = starts(lines[0] as string, header);
  expect(lines).toHaveLength(rows.length + 1);
  rows.forEach((cells, i) => {
    expect(starts(lines[i + 1] as string, cells), lines[i + 1]).toEqual(want.slice(0, cells.length));
  });
}

interface Listed {
  id: string;
  address: string;
  version: string | null;
  checkedAt: string | null;
  note: string;
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('s21-tables-');
  host = await initHost(root);
  for (const [i, note] of NOTES.entries()) {
    const id = `AGENT000000${i + 1}`;
    const agent = await initAgent(root, host, { id, register: false });
    await run(host, 0, [
      'agents',
      'add',
      '--id',
      id,
      '--address',
      `${id.toLowerCase()}@example.com`,
      '--key',
      agent.publicKeyFile,
      '--note',
      note,
    ]);
    agents.push(agent);
  }
  await run(host, 0, ['request-versions']);
  // the last agent stays silent: its version and time are '-'
  for (const agent of agents.slice(0, 3)) await run(agent, 0, ['poll-mail']);
  await run(host, 0, ['inbox']);
}, 120_000);

const listed = async (): Promise<Listed[]> =>
  (JSON.parse((await run(host, 0, ['--json', 'agents', 'list'])).stdout) as { agents: Listed[] }).agents;

describe('tables with East Asian wide characters and emoji', () => {
  it('agents list: every column starts at the same display column in every row, the zone in the header', async () => {
    const data = await listed();
    expect(data.map((a) => a.note)).toEqual(NOTES);
    const lines = (await run(host, 0, ['agents', 'list'])).stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Agent ID\s+Mail address\s+Version\s+Last version check \(UTC\)\s+Note$/);
    const rows = data.map((a) => [
      a.id,
      a.address,
      a.version ?? '-',
      a.checkedAt ? a.checkedAt.slice(0, 16).replace('T', ' ') : '-',
      a.note,
    ]);
    expectAligned(lines, ['Agent ID', 'Mail address', 'Version', 'Last version check', 'Note'], rows);
  });

  it('verify: the Failed column after the notes starts at the same display column in every row', async () => {
    const r = await run(host, 1, ['verify', '--no-inbox', '--target', '1.0.02-0']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('update to: 1.0.02-0');
    expect(lines.at(-1)).toBe('4 of 4 agents failed');
    const table = lines.slice(1, -1);
    expect(table[0]).toMatch(/^Agent ID\s+Mail address\s+Version\s+Last version check \(UTC\)\s+Note\s+Failed$/);
    const failed = (
      JSON.parse((await run(host, 1, ['--json', 'verify', '--no-inbox', '--target', '1.0.02-0'])).stdout) as {
        agents: { agentId: string; note: string; reason: string }[];
      }
    ).agents;
    expect(failed.map((a) => a.note)).toEqual(NOTES);
    expectAligned(
      table,
      ['Agent ID', 'Note', 'Failed'],
      failed.map((a) => [a.agentId, a.note, `✗ ${a.reason}`]),
    );
  });
});

describe('times in the operator’s zone', () => {
  it('TZ=Asia/Tokyo: the same instants nine hours later in agents list and verify, the zone in the header; --json stays UTC', async () => {
    const tokyo = { TZ: 'Asia/Tokyo' };
    const json = JSON.parse((await run(host, 0, ['--json', 'agents', 'list'], tokyo)).stdout) as { agents: Listed[] };
    const utc = await listed();
    expect(json.agents.map((a) => a.checkedAt)).toEqual(utc.map((a) => a.checkedAt));
    const checked = utc.filter((a) => a.checkedAt !== null);
    expect(checked).toHaveLength(3);
    for (const a of checked) expect(a.checkedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const plus9 = (iso: string) => new Date(Date.parse(iso) + 9 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');

    const lines = (await run(host, 0, ['agents', 'list'], tokyo)).stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Agent ID\s+Mail address\s+Version\s+Last version check \(Asia\/Tokyo\)\s+Note$/);
    expectAligned(
      lines,
      ['Agent ID', 'Version', 'Last version check', 'Note'],
      utc.map((a) => [a.id, a.version ?? '-', a.checkedAt ? plus9(a.checkedAt) : '-', a.note]),
    );

    const verify = (await run(host, 1, ['verify', '--no-inbox', '--target', '1.0.02-0'], tokyo)).stdout;
    expect(verify).toMatch(/^Agent ID\s+Mail address\s+Version\s+Last version check \(Asia\/Tokyo\)\s+Note\s+Failed$/m);
    for (const a of checked) expect(verify).toContain(plus9(a.checkedAt as string));
    // the zone is named once, in the header
    expect(verify.match(/Asia\/Tokyo/g)).toHaveLength(1);
  });
});
