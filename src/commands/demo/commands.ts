/** The real commands the demo runs in-process, each loaded lazily, and the one way it runs them. */
import type { Clock } from '../../core/clock.js';
import * as agent from '../specs/agent.js';
import { type CommandSpec, type OptionsOf, optionsWithDefaults, type Typed, typed } from '../specs/define.js';
import * as fleet from '../specs/fleet.js';
import * as host from '../specs/host.js';
import { report } from '../specs/report.js';
import * as shared from '../specs/shared.js';
import type { CommandResult } from '../types.js';
import type { Node } from './context.js';

/** Run one real command in-process, quietly, with the options its command line would give, and return its result. */
export async function cmd<S extends CommandSpec>(
  command: Typed<S>,
  node: Node,
  options: Partial<OptionsOf<S>> = {},
  clock?: Clock,
): Promise<CommandResult> {
  const run = await command.load();
  return run(optionsWithDefaults(command.spec, options), { config: node.config, quiet: true, ...(clock ? { clock } : {}) });
}

export const commands = {
  init: typed(shared.init, async () => (await import('../init.js')).run),
  keysExport: typed(shared.keysExport, async () => (await import('../keys-export.js')).run),
  agentsAdd: typed(fleet.agentsAdd, async () => (await import('../agents-add.js')).run),
  devicesAdd: typed(agent.devicesAdd, async () => (await import('../devices.js')).runAdd),
  watchFaults: typed(agent.watchFaults, async () => (await import('../watch-faults.js')).run),
  collectCounters: typed(agent.collectCounters, async () => (await import('../collect-counters.js')).run),
  pollMail: typed(agent.pollMail, async () => (await import('../poll-mail.js')).run),
  inbox: typed(host.inbox, async () => (await import('../inbox.js')).run),
  faultsList: typed(fleet.faultsList, async () => (await import('../faults-list.js')).run),
  requestCounters: typed(host.requestCounters, async () => (await import('../request-counters.js')).run),
  countersExport: typed(fleet.countersExport, async () => (await import('../counters-export.js')).run),
  packUpdate: typed(host.packUpdate, async () => (await import('../pack-update.js')).run),
  pushAll: typed(host.pushAll, async () => (await import('../push-all.js')).run),
  rolloutAdvance: typed(host.rolloutAdvance, async () => (await import('../rollout-advance.js')).run),
  rolloutStatus: typed(host.rolloutStatus, async () => (await import('../rollout-status.js')).run),
  requestVersions: typed(host.requestVersions, async () => (await import('../request-versions.js')).run),
  verify: typed(host.verify, async () => (await import('../verify.js')).run),
  suppliesList: typed(fleet.suppliesList, async () => (await import('../supplies-list.js')).run),
  agentsList: typed(fleet.agentsList, async () => (await import('../agents-list.js')).run),
  report: typed(report, async () => (await import('../report.js')).run),
};
