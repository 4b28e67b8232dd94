/**
 * Act seven, "the fleet report": what the service manager and the customer get, one
 * self-contained HTML page written by `rds report` on the demo clock of the service desk
 * (three days on), so silence and fault ages match the story.
 */
import type { Clock } from '../../core/clock.js';
import { cmd, commands } from './commands.js';
import { DAY_MS, type Fleet } from './context.js';

export async function fleetReport(fleet: Fleet): Promise<string> {
  const step = fleet.input.say('The fleet report');
  const file = fleet.input.reportFile;
  step(fleet.shell(fleet.host, `report --html ${file}`));
  const threeDaysOn: Clock = { now: () => new Date(Date.now() + 3 * DAY_MS) };
  const written = (await cmd(commands.report, fleet.host, { html: file }, threeDaysOn)).data as { file: string };
  step(
    `the verify table, the rollout in waves, silent agents, open faults, low supplies and page-count charts, one HTML page: ${written.file}`,
  );
  fleet.tables.report = written.file;
  return written.file;
}
