/** The demo story, act by act (one module per act); `rds demo` (../demo.ts) prints it. */
import { at, type DemoTables, type StoryInput } from './context.js';
import { counters } from './counters.js';
import { buildFleet } from './fleet.js';
import { paperJam } from './jam.js';
import { fleetReport } from './report.js';
import { serviceDesk } from './service-desk.js';
import { update } from './update.js';
import { versionsAndVerify } from './verify.js';
import { waves } from './waves.js';

export type { DemoTables, StoryInput } from './context.js';

export interface StoryOutcome {
  asDesigned: boolean;
  problem?: string;
  verify: unknown;
  tables: DemoTables;
}

export async function runStory(input: StoryInput): Promise<StoryOutcome> {
  const fleet = await buildFleet(input);
  const jamAcked = await paperJam(fleet);
  await counters(fleet);
  const rollout = await waves(fleet, await update(fleet));
  const verified = await versionsAndVerify(fleet);
  const service = await serviceDesk(fleet);
  await fleetReport(fleet);
  const expected = [`${at(fleet, fleet.failing).id}:rolled-back`, `${at(fleet, fleet.offline).id}:no-reply`];
  const asDesigned = jamAcked && rollout.ok && service.ok && JSON.stringify(verified.failed) === JSON.stringify(expected);
  const problem = `jam acked: ${jamAcked}; rollout: ${rollout.problem ?? 'ok'}; service desk: ${service.problem ?? 'ok'}; failed agents: ${verified.failed.join(', ')}; expected ${expected.join(', ')}`;
  return { asDesigned, ...(asDesigned ? {} : { problem }), verify: verified.data, tables: fleet.tables };
}
