// `rds demo --agents 3` (the smallest fleet): the story names the `rds` command behind each
// step, keeps ids out of human lines, counts the agents it did not show (never "-1"), and
// `--json` carries the tables as data.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, rds, tempDir } from '../support/cli.js';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

beforeAll(() => ensureBuilt(), 120_000);

describe('rds demo --agents 3', () => {
  it('prints replayable commands, no UUIDs, no negative count, and the lines CI checks', async () => {
    const r = await rds(['demo', '--agents', '3'], { cwd: tempDir('rds-demo-test-') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(UUID);
    expect(r.stdout).not.toMatch(/-\d+ more agent/);
    expect(r.stdout).not.toMatch(/more agents? installed it/); // 3 agents: every one is shown
    expect(r.stdout).toMatch(/^\$ rds --config HOST\/config\.json verify --target 1\.0\.02-0$/m);
    expect(r.stdout).toMatch(/^\$ rds --config AGENT0000003\/config\.json watch-faults$/m);
    expect(r.stdout).toMatch(/^update to: 1\.0\.02-0$/m);
    expect(r.stdout.match(/✗/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/^2 of 3 agents failed$/m);
    expect(r.stdout).toContain('ran as designed');
    // three days at the service desk: the toner goes low with a forecast date, the offline agent goes silent
    expect(r.stdout).toMatch(/^host inbox: raised supply-low on AGENT0000001\/AGENT0000001-mfp1 \(Black Toner\)$/m);
    expect(r.stdout).toMatch(/^host inbox: raised agent-silent on AGENT0000003$/m);
    expect(r.stdout).toMatch(/Black Toner\s+toner\s+19\s+low\s+.*\d{4}-\d{2}-\d{2} \(\d+(\.\d)? d\)$/m);
    expect(r.stdout).toMatch(/^desk@rds-center\.example got 2 alert mails/m);
  });

  it('--json gives the faults, counters and verify tables as data and each step its commands', async () => {
    const r = await rds(['--json', 'demo', '--agents', '3'], { cwd: tempDir('rds-demo-test-') });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tables.faults.faults).toEqual([expect.objectContaining({ code: 'jam', acked: true })]);
    expect(out.tables.counters.readings).toHaveLength(4);
    expect(out.tables.verify.agents.filter((a: { failed: boolean }) => a.failed)).toHaveLength(2);
    const verifyStep = out.steps.find((s: { title: string }) => s.title.startsWith('The host verifies'));
    expect(verifyStep.commands).toEqual(['rds --config HOST/config.json verify --target 1.0.02-0']);
    expect(out.tables.supplies.supplies).toEqual([
      expect.objectContaining({
        agentId: 'AGENT0000001',
        name: 'Black Toner',
        level: 19,
        state: 'low',
        forecast: expect.objectContaining({ status: 'forecast' }),
      }),
    ]);
    expect(out.tables.silent.agents.map((a: { id: string }) => a.id)).toEqual(['AGENT0000003']);
    expect(out.tables.alerts.subjects).toHaveLength(2);
  });
});
