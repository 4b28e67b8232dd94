// `rds demo --agents 3` (the smallest fleet): the story names the `rds` command behind each
// step, keeps ids out of human lines, counts the agents it did not show (never "-1"), rolls
// the update out in waves (the failing agent within the budget, the offline one timed out on
// the demo clock), and `--json` carries the tables as data.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, rds, tempDir } from '../support/cli.js';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

beforeAll(() => ensureBuilt(), 120_000);

describe('rds demo --agents 3', () => {
  it('prints replayable commands, no UUIDs, no negative count, and the lines CI checks', async () => {
    const cwd = tempDir('rds-demo-test-');
    const r = await rds(['demo', '--agents', '3'], { cwd });
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
    // the rollout in waves: the canary, wave 2 with the failing agent (within the budget), wave 3 with the offline one
    expect(r.stdout).toMatch(
      /^\$ rds --config HOST\/config\.json push-all update-1\.0\.02-0\.rdsu --waves 1,50%,100% --max-failures 1 --max-timeouts 1 --timeout 2h$/m,
    );
    expect(r.stdout).toMatch(
      /^rollout R\d{14}-[0-9a-f]{8}: wave 1 of 3: 1\.0\.02-0 sent to 1 of 3 agents; the rest: rds rollout advance$/m,
    );
    expect(r.stdout).toMatch(/^AGENT0000002 failed: within --max-failures 1, so the rollout goes on$/m);
    expect(r.stdout).toMatch(/^host: rollout R\S+ \(wave 3 of 3\): re-sent to 1 silent \(AGENT0000003\)$/m);
    expect(r.stdout).toMatch(/^host: rollout R\S+ \(wave 3 of 3\): 1 timed out \(AGENT0000003\), done$/m);
    expect(r.stdout).toMatch(/^ {2}rollout R\S+: update to 1\.0\.02-0, done, wave 3 of 3$/m);
    expect(r.stdout).toMatch(/^ {2}AGENT0000002 .* 2 +failed \(rolled-back\)$/m);
    expect(r.stdout).toMatch(/^ {2}AGENT0000003 .* 3 +timed-out$/m);
    expect(r.stdout).toMatch(/^ {2}agents: 1 installed, 1 failed, 1 timed-out$/m);
    // three days at the service desk: the toner goes low with a forecast date, the offline agent goes silent
    expect(r.stdout).toMatch(/^host inbox: raised supply-low on AGENT0000001\/AGENT0000001-mfp1 \(Black Toner\)$/m);
    expect(r.stdout).toMatch(/^host inbox: raised agent-silent on AGENT0000003$/m);
    expect(r.stdout).toMatch(/Black Toner\s+toner\s+19\s+low\s+.*\d{4}-\d{2}-\d{2} \(\d+(\.\d)? d\)$/m);
    expect(r.stdout).toMatch(/^desk@rds-center\.example got 2 alert mails/m);
    // the fleet report outlives the demo's temp folder: written in the current folder, and said where
    const report = path.join(fs.realpathSync(cwd), 'rds-demo-report.html');
    expect(r.stdout).toContain(`The fleet report: ${report} (open it in a browser)`);
    const html = fs.readFileSync(report, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/i);
    expect(html).toContain('2 of 3 agents failed');
    expect(html).toContain('<svg');
  });

  it('--json gives the faults, counters and verify tables as data and each step its commands', async () => {
    const root = tempDir('rds-demo-test-');
    const keep = path.join(root, 'kept');
    const r = await rds(['--json', 'demo', '--agents', '3', '--keep', keep], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    // with --keep the report is kept with the rest
    expect(out.report).toBe(path.join(keep, 'fleet-report.html'));
    expect(fs.statSync(out.report).isFile()).toBe(true);
    expect(fs.existsSync(path.join(root, 'rds-demo-report.html'))).toBe(false);
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
    expect(out.tables.rollout.state).toBe('done');
    expect(
      out.tables.rollout.agents.map((a: { agentId: string; wave: number; state: string; reason: string | null }) => [
        a.agentId,
        a.wave,
        a.state,
        a.reason,
      ]),
    ).toEqual([
      ['AGENT0000001', 1, 'installed', null],
      ['AGENT0000002', 2, 'failed', 'rolled-back'],
      ['AGENT0000003', 3, 'timed-out', null],
    ]);
  });
});
