/** The host's views of the fleet: faults, supplies, alerts, counters and the agent registry. */
import { defineCommand } from './define.js';

const AGENT = { flags: '--agent <id>', description: 'only this agent' } as const;
const AGENT_ID = { name: '<id>', description: 'agent id' } as const;
const ON_OR_CYCLE = 'with --on/--cycle:';

export const faultsList = defineCommand({
  name: 'list',
  description: 'agent, device, code, severity, raised/cleared, acked',
  flags: [{ flags: '--open', description: 'only faults not cleared yet' }, AGENT],
  help: '\nSource agent: a fault a device had, reported and acked. Source host: an event the host raises itself\n(supply-low, supply-empty, agent-silent, device-silent; cleared when resolved; Acked "-").\n\nExamples:\n  rds faults list --open\n  rds faults list --agent AGENT0000001 --json',
});

export const suppliesList = defineCommand({
  name: 'list',
  description: 'agent, device, supply, level %, read at, and the date it is forecast to run out',
  flags: [{ flags: '--due <duration>', description: 'only what is empty or forecast to run out within DURATION: what to ship' }, AGENT],
  help: '\nThe forecast is a Theil-Sen line through the levels since the last replacement; "not enough history"\nbelow two readings or a span of service.supplies.minForecastSpan (3d). See docs/service.md.\n\nExamples:\n  rds supplies list\n  rds supplies list --due 14d --json',
});

export const alertsTest = defineCommand({
  name: 'test',
  description: 'send a sample alert mail now to every routed address, or to ADDR',
  flags: [{ flags: '--to <addr>', description: 'only this address' }],
  help: '\nExamples:\n  rds alerts test\n  rds alerts test --to desk@service.example',
});

export const alertsFeed = defineCommand({
  name: 'feed',
  description: 'every event (agent faults and host events) since a time, for a ticket system',
  flags: [{ flags: '--since <time>', description: 'only events at or after TIME (ISO 8601)' }],
  help: '\nExample:\n  rds alerts feed --since 2026-12-01T00:00:00Z --json',
});

export const countersExport = defineCommand({
  name: 'export',
  description: 'one row per device reading (meter-read export)',
  flags: [
    { flags: '--csv', description: 'CSV (RFC 4180) instead of a table' },
    { flags: '--since <time>', description: 'only readings taken at or after TIME (ISO 8601)' },
    {
      flags: '--on <date>',
      description: 'meter reads by billing date: one row per device, read, estimated or missing (DATE: end of that day, UTC)',
    },
    { flags: '--cycle <cycle>', description: 'billing cycle rows (start read, end read, pages used): monthly' },
    { flags: '--day <n>', description: 'with --cycle monthly: the day of the month the cycle ends on (1-31)' },
    {
      flags: '--tolerance <duration>',
      description: `${ON_OR_CYCLE} how long before the date a reading still counts as read`,
      default: '3d',
    },
    { flags: '--max-gap <duration>', description: `${ON_OR_CYCLE} no estimate from readings further apart than this`, default: '35d' },
    { flags: '--extrapolate', description: `${ON_OR_CYCLE} estimate past the last (or before the first) reading too` },
  ],
  help: '\nExamples:\n  rds counters export --csv --since 2026-11-01 > november.csv\n  rds counters export --on 2026-11-25 --csv > reads-2026-11-25.csv   # read / estimated (with its basis) / missing\n  rds counters export --cycle monthly --day 25 --csv > cycle.csv     # the cycle that ended on the last 25th',
});

export const agentsAdd = defineCommand({
  name: 'add',
  description: 'register an agent',
  flags: [
    { flags: '--id <id>', description: 'agent id', mandatory: true },
    { flags: '--address <addr>', description: 'agent mail address', mandatory: true },
    { flags: '--key <file>', description: 'agent public key (from `rds keys export` on the agent)', mandatory: true },
    { flags: '--note <text>', description: 'customer note', default: '' },
  ],
  help: '\nExample:\n  rds agents add --id AGENT0000001 --address agent1@aaa.example --key agent1.asc --note "aaa Trading"',
});

export const agentsList = defineCommand({
  name: 'list',
  description: 'list agents with version and last check time',
  flags: [{ flags: '--silent <duration>', description: 'only agents not heard from for longer than DURATION, with a "Last heard" column' }],
  help: '\nExamples:\n  rds agents list\n  rds agents list --silent 2d',
});

export const agentsShow = defineCommand({
  name: 'show',
  description: 'one agent: registry data, last seen, versions reported, rollouts with their results and install-log tail, open faults',
  args: [AGENT_ID],
  help: '\nExamples:\n  rds agents show AGENT0000007          # why did its install roll back? (reason and the end of its install log)\n  rds agents show AGENT0000007 --json   # {"id", "address", "fingerprint", "note", "lastSeen", "versions", "rollouts", "partsRequests", "openFaults"}',
});

export const agentsRemove = defineCommand({
  name: 'remove',
  description: 'remove an agent from the registry',
  args: [AGENT_ID],
});

export const agentsImport = defineCommand({
  name: 'import',
  description: 'register many agents at once',
  args: [{ name: '<file>', description: 'CSV with columns id,address,key[,note] (key: path to an armored key), or a JSON array' }],
  help: '\nExample:\n  rds agents import fleet.csv',
});
