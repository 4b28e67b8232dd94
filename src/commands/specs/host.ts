/** The host's commands that build, send and check updates, and take in agent mail. */
import { defineCommand } from './define.js';
import { AGENT_SELECTION, every, MAX, WAIT, WORKER } from './flags.js';

export const packUpdate = defineCommand({
  name: 'pack-update',
  description: 'host: build one update package (install script + modules, signed and encrypted)',
  flags: [
    { flags: '--software-version <v>', description: 'the Software Version agents run after installing', mandatory: true },
    { flags: '--script <file>', description: 'install shell script', mandatory: true },
    { flags: '--health-check <file>', description: 'script run after the switch; failing, it switches back (docs/install.md)' },
    { flags: '--module <NAME=VERSION:PATH>', description: 'a module file or folder (repeatable)', repeatable: true },
    { flags: '--rom-version <v>', description: 'ROM version to report after installing' },
    { flags: '--allow-downgrade', description: 'sign permission to install over a higher version' },
    { flags: '--timeout <duration>', description: 'install script timeout', default: '10m' },
    { flags: '-o, --output <file>', description: 'output file (default update-VERSION.rdsu)' },
  ],
  help: '\nExample:\n  rds pack-update --software-version 1.0.02-0 --script install.sh --module main.cgi=1.0.01:build/main.cgi -o update.rdsu',
});

export const pushAll = defineCommand({
  name: 'push-all',
  description: 'host: mail the package to every selected agent in one batch; records a rollout',
  args: [{ name: '[file]', description: 'update package made by pack-update' }],
  flags: [
    ...AGENT_SELECTION,
    { flags: '--dry-run', description: 'check the package and show who would get it; send nothing' },
    { flags: '--retry-failed <rollout>', description: 're-send to the agents of ROLLOUT whose send failed' },
    {
      flags: '--waves <list>',
      description:
        'cumulative share of the agents reached by the end of each wave: counts or percents, the last 100% (default 100%: one batch)',
    },
    { flags: '--canary <ids>', description: 'these agents (comma-separated) make up the first wave' },
    {
      flags: '--max-failures <n>',
      description: 'install failures allowed in the whole rollout before it halts: N or P% of its agents, rounded down (default 0)',
    },
    { flags: '--max-timeouts <n>', description: 'agents allowed to time out before the rollout halts: N or P% (default 0)' },
    { flags: '--timeout <duration>', description: 'how long an agent may stay silent after its update mail (default 2h)' },
    {
      flags: '--retries <n>',
      description: 're-sends (each after a version request) to a silent agent before it counts as timed out (default 1)',
    },
    { flags: '--rate <n/unit>', description: 'at most N update mails per minute or hour: N/m, N/h (SMTP quotas)' },
  ],
  help: '\nWith several waves push-all sends the first and returns; rds rollout advance sends the rest (docs/rollouts.md).\n\nExamples:\n  rds push-all update-1.0.02-0.rdsu\n  rds push-all update.rdsu --exclude AGENT0000007 --dry-run\n  rds push-all update.rdsu --canary AGENT0000001 --waves 10%,50%,100% --max-failures 2% --rate 300/h\n  rds push-all --retry-failed R20261124201500-1a2b3c4d',
});

export const exportUpdate = defineCommand({
  name: 'export-update',
  description: 'host: write the package as a file only one agent can open, to install by USB/scp with apply-update; counts in a rollout',
  args: [{ name: '<file>', description: 'update package made by pack-update' }],
  flags: [
    { flags: '--agent <id>', description: 'the registered agent the file is for', mandatory: true },
    {
      flags: '--rollout <id>',
      description: 'count it in this rollout (default: the latest of this package with the agent, else a new one)',
    },
    { flags: '--valid-for <duration>', description: 'how long the agent accepts the file (1m to 365d)', default: '30d' },
    { flags: '-o, --output <file>', description: 'output file (default update-VERSION-AGENT.rdsx)' },
    { flags: '--force', description: 'replace an existing output file' },
  ],
  help: '\nExamples:\n  rds export-update update-1.0.02-0.rdsu --agent AGENT0000007\n  rds export-update update.rdsu --agent AGENT0000007 --valid-for 90d -o /media/usb/agent7.rdsx',
});

export const requestVersions = defineCommand({
  name: 'request-versions',
  description: 'host: ask every selected agent for its version report',
  flags: [...AGENT_SELECTION, WAIT],
  help: '\nExample:\n  rds request-versions --wait 10m',
});

export const verify = defineCommand({
  name: 'verify',
  description: "host: compare every agent's Software Version with the target; exit 1 if any failed",
  flags: [
    { flags: '--target <version>', description: "the version every agent should run (default: the rollout's)" },
    { flags: '--rollout <id>', description: 'the rollout to check (default: the latest)' },
    WAIT,
    { flags: '--no-inbox', description: 'do not read mail first; judge from what was taken in' },
  ],
  help: '\nExamples:\n  rds verify --target 1.0.02-0\n  rds verify --wait 15m --json   # in CI',
});

export const rollouts = defineCommand({
  name: 'rollouts',
  description: 'host: every rollout, newest first: package, target, and how many agents were sent, installed, failed, pending',
  help: '\nFailed: the send failed, the agent rolled back or refused, or it timed out. Pending: not sent yet, no result yet, or deferred to its install window.\n\nExamples:\n  rds rollouts\n  rds rollouts --json   # {"rollouts": [{"id", "packageId", "targetVersion", "createdAt", "agents", "sent", "installed", "failed", "pending", "state"}]}\n\nState: running, paused, halted, aborted, done (rds rollout status ID: per wave and per agent).',
});

const ROLLOUT_ID = { name: '<id>', description: 'the rollout (rds rollouts lists them)' } as const;

export const rolloutAdvance = defineCommand({
  name: 'advance',
  description:
    'one pass: take in mail, then move every running rollout on (next wave, re-sends, timeouts) or halt it; exit 1 when one is halted',
  args: [{ name: '[id]', description: 'only this rollout' }],
  flags: [every('5m'), WORKER],
  help: '\nExit: 0 moved or nothing to do, 1 a rollout is halted (the line names the budget and the agents), 2 usage, 3 mail server or lock busy.\n\nExamples:\n  rds rollout advance\n  rds rollout advance --every 5m   # as a service\n  rds --json rollout advance R20261124201500-1a2b3c4d',
});

export const rolloutStatus = defineCommand({
  name: 'status',
  description: 'where a rollout stands (default: the latest): per wave and per agent, and the counts',
  args: [{ name: '[id]', description: 'the rollout (default: the latest)' }],
  help: '\nExamples:\n  rds rollout status\n  rds rollout status R20261124201500-1a2b3c4d --json   # {"rollout", "target", "state", "waves": [{"wave", "agents", "state"}], "counts", "agents": [{"agentId", "wave", "state", "reason", "attempts", "sentAt", "reportedAt"}]}',
});

export const rolloutPause = defineCommand({
  name: 'pause',
  description: 'stop sending for a running rollout (results are still taken in); its queued mails are held',
  args: [ROLLOUT_ID],
  help: '\nExample:\n  rds rollout pause R20261124201500-1a2b3c4d',
});

export const rolloutResume = defineCommand({
  name: 'resume',
  description: 'continue a paused or halted rollout; the budgets count from the failures and timeouts so far',
  args: [ROLLOUT_ID],
  help: '\nExample:\n  rds rollout resume R20261124201500-1a2b3c4d && rds rollout advance',
});

export const rolloutAbort = defineCommand({
  name: 'abort',
  description: 'end a rollout: agents not sent yet are skipped, its unsent mails dropped',
  args: [ROLLOUT_ID],
  help: '\nExample:\n  rds rollout abort R20261124201500-1a2b3c4d',
});

export const inbox = defineCommand({
  name: 'inbox',
  description: 'host: take in agent mail: version reports, update results, fault reports (acked), counters',
  flags: [every('1m'), MAX, WORKER],
  help: '\nExamples:\n  rds inbox --every 1m\n  rds inbox --every 1m --worker   # several at once, on one box or several (docs/deployment.md#workers)',
});

export const requestCounters = defineCommand({
  name: 'request-counters',
  description: 'host: ask agents for the counter readings they hold',
  flags: [...AGENT_SELECTION, WAIT],
  help: '\nExample:\n  rds request-counters --wait 10m && rds counters export --csv > meters.csv',
});
