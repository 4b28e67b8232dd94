/**
 * The command table: every command of `rds`, in the order `rds --help` lists them, each with
 * its spec (specs/*.ts, data only) and a lazy loader of its run (the command module, imported
 * only when that command runs). src/cli.ts turns this into the commander program.
 */
import * as agent from './agent.js';
import { AUDIT_GROUP } from './audit.js';
import { command, type Entry, group } from './define.js';
import * as fleet from './fleet.js';
import * as host from './host.js';
import { COLLECT_COUNTERS, HEARTBEAT, POLL_MAIL, WATCH_FAULTS } from './passes.js';
import * as queues from './queues.js';
import { report } from './report.js';
import * as shared from './shared.js';
import { storeMigrate } from './store.js';

export const PROGRAM = {
  name: 'rds',
  description: 'Run a fleet of device-monitoring agents by e-mail: one binary for the agents and the host.',
  version: '0.1.0',
} as const;

export const COMMANDS: readonly Entry[] = [
  // ---- shared -------------------------------------------------------------
  command(shared.init, async () => (await import('../init.js')).run),
  command(shared.demo, async () => (await import('../demo.js')).run),
  group('keys', "this node's keys", [
    command(shared.keysExport, async () => (await import('../keys-export.js')).run),
    command(shared.keysShow, async () => (await import('../keys-show.js')).run),
    command(shared.keysRotate, async () => (await import('../keys-rotate.js')).run),
  ]),
  command(shared.doctor, async () => (await import('../doctor.js')).run),
  AUDIT_GROUP,
  command(shared.completion, async () => (await import('../completion.js')).run),
  group('outbox', 'mail this node queued: what waits, how often it was tried, the last server answer (both roles)', [
    command(queues.outboxList, async () => (await import('../outbox.js')).runList),
    command(queues.outboxRetry, async () => (await import('../outbox.js')).runRetry),
    command(queues.outboxDrop, async () => (await import('../outbox.js')).runDrop),
  ]),
  group('quarantine', 'mail refused by the checks: what, why, and releasing it once the cause is fixed', [
    command(queues.quarantineList, async () => (await import('../quarantine.js')).runList),
    command(queues.quarantineShow, async () => (await import('../quarantine.js')).runShow),
    command(queues.quarantineRelease, async () => (await import('../quarantine.js')).runRelease),
  ]),
  // ---- agent --------------------------------------------------------------
  command(agent.applyUpdate, async () => (await import('../apply-update.js')).run),
  command(agent.versions, async () => (await import('../versions.js')).run),
  WATCH_FAULTS,
  COLLECT_COUNTERS,
  HEARTBEAT,
  group('devices', 'agent: the devices this agent watches', [
    command(agent.devicesAdd, async () => (await import('../devices.js')).runAdd),
    command(agent.devicesList, async () => (await import('../devices.js')).runList),
    command(agent.devicesRemove, async () => (await import('../devices.js')).runRemove),
    command(agent.devicesDiscover, async () => (await import('../devices-discover.js')).run),
  ]),
  POLL_MAIL,
  // ---- host ---------------------------------------------------------------
  command(host.packUpdate, async () => (await import('../pack-update.js')).run),
  command(host.pushAll, async () => (await import('../push-all.js')).run),
  command(host.exportUpdate, async () => (await import('../export-update.js')).run),
  command(host.requestVersions, async () => (await import('../request-versions.js')).run),
  command(host.verify, async () => (await import('../verify.js')).run),
  command(host.rollouts, async () => (await import('../rollouts.js')).run),
  group('store', "host: where the host's state lives (SQLite in the state dir, or PostgreSQL)", [
    command(storeMigrate, async () => (await import('../store-migrate.js')).run),
  ]),
  group('rollout', 'host: a rollout in waves: advance it, see where it stands, pause, resume or abort it', [
    command(host.rolloutAdvance, async () => (await import('../rollout-advance.js')).run),
    command(host.rolloutStatus, async () => (await import('../rollout-status.js')).run),
    command(host.rolloutPause, async () => (await import('../rollout-move.js')).runPause),
    command(host.rolloutResume, async () => (await import('../rollout-move.js')).runResume),
    command(host.rolloutAbort, async () => (await import('../rollout-move.js')).runAbort),
  ]),
  command(report, async () => (await import('../report.js')).run),
  command(host.inbox, async () => (await import('../inbox.js')).run),
  command(host.requestCounters, async () => (await import('../request-counters.js')).run),
  group('faults', 'host: fault events received from agents', [
    command(fleet.faultsList, async () => (await import('../faults-list.js')).run),
  ]),
  group('supplies', 'host: toner, drums, waste and maintenance kits from counter readings', [
    command(fleet.suppliesList, async () => (await import('../supplies-list.js')).run),
  ]),
  group('alerts', 'host: where events go (service.alerts.routes in the config)', [
    command(fleet.alertsTest, async () => (await import('../alerts.js')).runTest),
    command(fleet.alertsFeed, async () => (await import('../alerts.js')).runFeed),
  ]),
  group('counters', 'host: counter readings received from agents', [
    command(fleet.countersExport, async () => (await import('../counters-export.js')).run),
  ]),
  group('agents', 'host: the fleet registry', [
    command(fleet.agentsAdd, async () => (await import('../agents-add.js')).run),
    command(fleet.agentsList, async () => (await import('../agents-list.js')).run),
    command(fleet.agentsShow, async () => (await import('../agents-show.js')).run),
    command(fleet.agentsRemove, async () => (await import('../agents-remove.js')).run),
    command(fleet.agentsImport, async () => (await import('../agents-import.js')).run),
  ]),
];
