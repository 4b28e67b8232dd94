/**
 * The one place that builds the commander program. Each action turns flags into a typed
 * options object and lazily imports its command module, so `rds --version` and
 * `rds --help` load neither openpgp, imapflow, net-snmp nor SQLite (cron on a small box
 * pays start-up every minute).
 */
import { Command, CommanderError, Option } from 'commander';
import type { CommandResult, GlobalOptions } from './commands/types.js';
import { EXIT, isRdsError } from './core/errors.js';
import { showLines } from './core/text/show.js';
import { ROOT_HELP } from './root-help.js';

type Loader = () => Promise<{ run: (options: never, globals: GlobalOptions) => Promise<CommandResult> }>;

const VERSION = '0.1.0';

function action(load: Loader, state: { result?: Promise<CommandResult> }) {
  return function (this: Command, ...args: unknown[]) {
    const cmd = args[args.length - 1] as Command;
    const positionals = args.slice(0, -2);
    const globals = cmd.optsWithGlobals() as GlobalOptions;
    const options = { ...cmd.opts(), args: positionals };
    state.result = load().then((m) => m.run(options as never, globals));
  };
}

export function buildProgram(state: { result?: Promise<CommandResult> }): Command {
  const program = new Command('rds')
    .description('Run a fleet of device-monitoring agents by e-mail: one binary for the agents and the host.')
    .version(VERSION, '-V, --version')
    .option('--config <file>', 'config file (default: $RDS_CONFIG, else the conf default location)')
    .option('--json', 'print one JSON document on stdout')
    .option('--quiet', 'only errors on stderr')
    .option('--verbose', 'debug logging on stderr')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', ROOT_HELP)
    .exitOverride();
  const on = (load: Loader) => action(load, state);

  // ---- shared -------------------------------------------------------------
  program
    .command('init')
    .description("write DIR/config.json, generate this node's key pair, create the state dir")
    .addOption(new Option('--role <role>', 'agent or host').choices(['agent', 'host']).makeOptionMandatory())
    .requiredOption('--id <id>', 'node id, e.g. AGENT0000001')
    .requiredOption('--address <addr>', "this node's mail address")
    .requiredOption('--smtp <url>', 'smtp://user:pass@host:port, smtps://…, or maildir:///path')
    .option('--inbox <url>', 'where mail is read: imap://…, imaps://…, pop3://…, pop3s://…, or maildir:///path')
    .option('--imap <url>', 'the same as --inbox (kept for existing scripts)')
    .option('--dir <dir>', 'folder for config, keys and state', '.')
    .option('--host-address <addr>', "agent: the host's mail address")
    .option('--host-id <id>', "agent: the host's node id", 'HOST')
    .option('--host-key <file>', "agent: the host's armored public key (pinned)")
    .option('--software-version <v>', 'agent: the version running now', '1.0.00-0')
    .option('--rom-version <v>', 'agent: ROM version for the version report')
    .option('--install-root <dir>', 'agent: install root (releases/ and current)')
    .option('--tls-ca <file>', 'PEM of a private CA to trust for SMTP/IMAP/POP3 TLS')
    .option('--smtp-password-file <file>', 'read the SMTP password from this file')
    .option('--imap-password-file <file>', 'read the inbox (IMAP or POP3) password from this file')
    .option('--state-dir <dir>', 'state folder (SQLite store, outbox, logs; default: DIR/state), e.g. /var/lib/rds/state')
    .addHelpText(
      'after',
      `
Examples:
  rds init --role host --id HOST --address host@example.com --smtp smtps://host%40example.com@mail.example.com --imap imaps://host%40example.com@mail.example.com --dir /etc/rds
  rds init --role agent --id AGENT0000001 --address agent1@example.com --host-address host@example.com \\
           --host-key host.asc --smtp smtps://… --inbox imaps://… --software-version 1.0.00-1 --dir /etc/rds
  rds init --role agent … --inbox 'pop3s://agent1%40example.com@mail.example.com'   (POP3: handled mail is deleted)`,
    )
    .action(on(() => import('./commands/init.js')));

  program
    .command('demo')
    .description('the whole story on an embedded mail system: a jam, counters, an update to the fleet, verify')
    .option('--agents <n>', 'fleet size', '17')
    .option('--keep <dir>', 'keep configs, mailboxes and databases in DIR')
    .addHelpText('after', '\nExamples:\n  rds demo\n  rds demo --agents 5 --keep /tmp/rds-demo')
    .action(on(() => import('./commands/demo.js')));

  const keys = program.command('keys').description("this node's keys");
  keys
    .command('export')
    .description("print this node's armored public key (register an agent at the host with it)")
    .addHelpText('after', '\nExample:\n  rds keys export > agent1.asc')
    .action(on(() => import('./commands/keys-export.js')));
  keys
    .command('show')
    .description("print this node's role, id and key fingerprint; on an agent also the pinned host key's fingerprint and file")
    .addHelpText(
      'after',
      '\nExamples:\n  rds keys show          # compare with the fingerprint the other side registered or pinned\n  rds keys show --json   # {"role", "id", "fingerprint", "hostKey": {"fingerprint", "file"}} (hostKey: agent only)',
    )
    .action(on(() => import('./commands/keys-show.js')));
  keys
    .command('rotate')
    .description('host: new host key, announced to every agent in a message signed by the old key')
    .addHelpText('after', '\nExample:\n  rds keys rotate && rds pack-update … # re-pack: packages are encrypted to the host key')
    .action(on(() => import('./commands/keys-rotate.js')));
  program
    .command('doctor')
    .description(
      'check the config and everything it points at (files, keys, mail servers, devices): one line each, ok or FAIL with the fix',
    )
    .addHelpText(
      'after',
      `
Checks: the config; owners and modes of the config, keys, password files and state dir; the
state dir writable and its database; the key passphrase; the pinned host key (agent); SMTP
login with STARTTLS/TLS verified against the configured CA; IMAP login, INBOX and the
processed and quarantine folders; each device answering SNMP (agent, 2 s timeout).
Exit 0 only when every check passed, 1 when one failed, 2 when the config cannot be read.

Examples:
  rds doctor
  rds doctor --json   # {"ok", "checks": [{"name", "ok", "detail", "fix"}]}`,
    )
    .action(on(() => import('./commands/doctor.js')));
  program
    .command('completion')
    .argument('<shell>', 'bash or zsh')
    .description('print a shell completion script')
    .addHelpText('after', `\nExamples:\n  eval "$(rds completion bash)"\n  rds completion zsh > "\${fpath[1]}/_rds"`)
    .action(on(() => import('./commands/completion.js')));

  const outbox = program
    .command('outbox')
    .description('mail this node queued: what waits, how often it was tried, the last server answer (both roles)');
  outbox
    .command('list')
    .description('queued, failed (refused for good) and dropped mail, and mail sent in the last 24 hours')
    .option('--all', 'every sent mail too, not only the last 24 hours')
    .addHelpText(
      'after',
      '\nStates: queued (sent on the next run), failed (the server refused it for good, e.g. 550 5.1.1), dropped, sent.\n\nExamples:\n  rds outbox list\n  rds outbox list --json   # {"items": [{"seq", "messageId", "kind", "to", "createdAt", "attempts", "lastError", "state", …}], "queued", "failed", "dropped", "sent"}',
    )
    .action(on(async () => ({ run: (await import('./commands/outbox.js')).runList })));
  outbox
    .command('retry')
    .argument('<id>', 'the ID (or message id) from rds outbox list')
    .description('put a failed or dropped item back in the queue and try to send it now')
    .addHelpText(
      'after',
      '\nExample:\n  rds outbox retry 17     # exit 0 sent, 1 refused again, 2 config (login, TLS), 3 server unreachable',
    )
    .action(on(async () => ({ run: (await import('./commands/outbox.js')).runRetry })));
  outbox
    .command('drop')
    .argument('<id>', 'the ID (or message id) from rds outbox list')
    .description('never send this queued or failed item (it is kept, marked dropped)')
    .addHelpText('after', '\nExample:\n  rds outbox drop 17')
    .action(on(async () => ({ run: (await import('./commands/outbox.js')).runDrop })));
  const quarantine = program
    .command('quarantine')
    .description('mail refused by the checks: what, why, and releasing it once the cause is fixed');
  quarantine
    .command('list')
    .description('every quarantined mail, newest first: id, when, reason code, sender, subject, state (kept, releasable, released)')
    .addHelpText(
      'after',
      '\nExamples:\n  rds quarantine list\n  rds quarantine list --json   # {"quarantine": [{"id", "receivedAt", "code", "reason", "from", "subject", "messageId", "payloadId", "location", "releasedAt", "releasable"}]}',
    )
    .action(on(async () => ({ run: (await import('./commands/quarantine.js')).runList })));
  quarantine
    .command('show')
    .argument('<id>', 'quarantine id (from rds quarantine list)')
    .description('one quarantined mail: the record, and whether the mail is still in the quarantine folder')
    .addHelpText('after', '\nExample:\n  rds quarantine show 3')
    .action(on(async () => ({ run: (await import('./commands/quarantine.js')).runShow })));
  quarantine
    .command('release')
    .argument('<id>', 'quarantine id (from rds quarantine list)')
    .description('move a quarantined mail back to the inbox, where the next receive pass checks it again like new mail')
    .addHelpText(
      'after',
      `
Only for reasons a change here can cure: UNKNOWN_SENDER, UNKNOWN_KEY, SENDER_MISMATCH,
SENDER_ID_MISMATCH (register or fix the agent, pin the right key), UNKNOWN_TYPE,
UNSUPPORTED_FORMAT (a newer rds), OVERSIZE (a larger maxMessageSize), FROM_FUTURE (a fixed
clock). Anything else (a bad signature, a replay, an expired or tampered message) is refused
with exit 2 and stays in quarantine.

Example:
  rds agents add --id AGENT0000009 --address agent9@example.com --key agent9.asc && rds quarantine release 3 && rds inbox`,
    )
    .action(on(async () => ({ run: (await import('./commands/quarantine.js')).runRelease })));

  // ---- agent --------------------------------------------------------------
  program
    .command('apply-update')
    .argument('<file>', 'an .rdsu update package')
    .description('agent: verify and install an update package from a file')
    .addHelpText('after', '\nExample:\n  rds apply-update /tmp/update-1.0.02-0.rdsu')
    .action(on(() => import('./commands/apply-update.js')));
  program
    .command('versions')
    .description("agent: print this agent's version report (SPEC §5)")
    .option('--aligned', 'pad columns with spaces, as the original system printed it')
    .addHelpText('after', '\nExample:\n  rds versions')
    .action(on(() => import('./commands/versions.js')));

  program
    .command('watch-faults')
    .description('agent: poll every device for faults; report new and cleared ones; resend unacked ones once')
    .option('--every <duration>', 'loop: one pass every DURATION (e.g. 60s)')
    .addHelpText(
      'after',
      '\nExamples:\n  rds watch-faults               # one pass (cron, every minute)\n  rds watch-faults --every 60s   # loop (systemd service)',
    )
    .action(on(() => import('./commands/watch-faults.js')));
  program
    .command('collect-counters')
    .description('agent: read the counters of every device and store one reading each')
    .option('--every <duration>', 'loop: one pass every DURATION (e.g. 60m)')
    .addHelpText('after', '\nExample:\n  rds collect-counters --every 60m')
    .action(on(() => import('./commands/collect-counters.js')));
  program
    .command('heartbeat')
    .description('agent: send the host a signed heartbeat now (watch-faults sends one every heartbeatInterval, default 1d)')
    .addHelpText(
      'after',
      '\nThe heartbeat names the devices this agent watches and when each last answered, so the host can\ntell a silent agent or device from a quiet one (rds agents list --silent 2d on the host).\n\nExample:\n  rds heartbeat',
    )
    .action(on(() => import('./commands/heartbeat.js')));
  const devices = program.command('devices').description('agent: the devices this agent watches');
  devices
    .command('add')
    .description('add a device')
    .requiredOption('--id <id>', 'device id, e.g. mfp-2f-east')
    .addOption(new Option('--driver <driver>', 'how to reach it').choices(['snmp', 'ipp', 'simulated']).default('snmp'))
    .option('--address <host[:port]|url>', 'snmp: HOST[:PORT]; ipp: ipp://host[:631]/ipp/print or ipps://…')
    .option('--community <c>', 'snmp v1/v2c: community', 'public')
    .addOption(new Option('--snmp-version <v>', 'snmp version (the --v3-* options need 3)').choices(['1', '2c', '3']).default('2c'))
    .option('--v3-user <name>', 'snmp v3: user')
    .option('--v3-level <level>', 'snmp v3: noAuthNoPriv | authNoPriv | authPriv (default: authPriv)')
    .option('--v3-auth-protocol <p>', 'snmp v3: md5 | sha | sha256 | … (default: sha)')
    .option('--v3-auth-key <key>', 'snmp v3: authentication pass phrase')
    .option('--v3-priv-protocol <p>', 'snmp v3: des | aes | … (default: aes)')
    .option('--v3-priv-key <key>', 'snmp v3: privacy pass phrase')
    .option('--v3-context <name>', 'snmp v3: context name')
    .option('--timeout <ms>', 'snmp, ipp: timeout per request in ms')
    .option('--retries <n>', 'snmp: retries per request')
    .option('--file <file>', 'simulated: the JSON file describing the printers')
    .option('--name <name>', 'simulated: the device name in that file (default: the id)')
    .addHelpText(
      'after',
      '\nExamples:\n  rds devices add --id mfp-1 --driver snmp --address 192.0.2.10 --community public\n  rds devices add --id mfp-2 --driver snmp --address 192.0.2.11 --snmp-version 3 --v3-user rds --v3-auth-key … --v3-priv-key …\n  rds devices add --id lp-3 --driver ipp --address ipp://192.0.2.20:631/ipp/print\n  rds devices add --id sim-1 --driver simulated --file printers.json',
    )
    .action(on(async () => ({ run: (await import('./commands/devices.js')).runAdd })));
  devices
    .command('list')
    .description('list devices: id, driver, address, SNMP version (secrets redacted)')
    .addHelpText('after', '\nExample:\n  rds devices list --json')
    .action(on(async () => ({ run: (await import('./commands/devices.js')).runList })));
  devices
    .command('remove')
    .argument('<id>', 'device id')
    .description('stop watching a device')
    .action(on(async () => ({ run: (await import('./commands/devices.js')).runRemove })));
  program
    .command('poll-mail')
    .description('agent: take host mail one message at a time: verify, then act (update, version request, ack, counter request)')
    .option('--every <duration>', 'loop: one pass every DURATION (e.g. 3m)')
    .option('--max <n>', 'at most N messages a pass')
    .addHelpText(
      'after',
      '\nExamples:\n  rds poll-mail                 # one pass (cron)\n  rds poll-mail --every 3m      # loop (systemd service)',
    )
    .action(on(() => import('./commands/poll-mail.js')));

  // ---- host ---------------------------------------------------------------
  program
    .command('pack-update')
    .description('host: build one update package (install script + modules, signed and encrypted)')
    .requiredOption('--software-version <v>', 'the Software Version agents run after installing')
    .requiredOption('--script <file>', 'install shell script')
    .option(
      '--module <NAME=VERSION:PATH>',
      'a module file or folder (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--rom-version <v>', 'ROM version to report after installing')
    .option('--allow-downgrade', 'sign permission to install over a higher version')
    .option('--timeout <duration>', 'install script timeout', '10m')
    .option('-o, --output <file>', 'output file (default update-VERSION.rdsu)')
    .addHelpText(
      'after',
      '\nExample:\n  rds pack-update --software-version 1.0.02-0 --script install.sh --module main.cgi=1.0.01:build/main.cgi -o update.rdsu',
    )
    .action(on(() => import('./commands/pack-update.js')));

  program
    .command('push-all')
    .argument('[file]', 'update package made by pack-update')
    .description('host: mail the package to every selected agent in one batch; records a rollout')
    .option('--agents <ids>', 'only these agents (comma-separated)')
    .option('--exclude <ids>', 'all but these agents (comma-separated)')
    .option('--dry-run', 'check the package and show who would get it; send nothing')
    .option('--retry-failed <rollout>', 're-send to the agents of ROLLOUT whose send failed')
    .addHelpText(
      'after',
      '\nExamples:\n  rds push-all update-1.0.02-0.rdsu\n  rds push-all update.rdsu --exclude AGENT0000007 --dry-run\n  rds push-all --retry-failed R20261124201500-1a2b3c4d',
    )
    .action(on(() => import('./commands/push-all.js')));
  program
    .command('request-versions')
    .description('host: ask every selected agent for its version report')
    .option('--agents <ids>', 'only these agents (comma-separated)')
    .option('--exclude <ids>', 'all but these agents (comma-separated)')
    .option('--wait <duration>', 'take in replies until all answered or DURATION passed')
    .addHelpText('after', '\nExample:\n  rds request-versions --wait 10m')
    .action(on(() => import('./commands/request-versions.js')));
  program
    .command('verify')
    .description("host: compare every agent's Software Version with the target; exit 1 if any failed")
    .option('--target <version>', "the version every agent should run (default: the rollout's)")
    .option('--rollout <id>', 'the rollout to check (default: the latest)')
    .option('--wait <duration>', 'take in replies until all answered or DURATION passed')
    .option('--no-inbox', 'do not read mail first; judge from what was taken in')
    .addHelpText('after', '\nExamples:\n  rds verify --target 1.0.02-0\n  rds verify --wait 15m --json   # in CI')
    .action(on(() => import('./commands/verify.js')));
  program
    .command('rollouts')
    .description('host: every rollout, newest first: package, target, and how many agents were sent, installed, failed, pending')
    .addHelpText(
      'after',
      '\nFailed: the send failed, or the agent rolled back or refused. Pending: not sent yet, or no result yet.\n\nExamples:\n  rds rollouts\n  rds rollouts --json   # {"rollouts": [{"id", "packageId", "targetVersion", "createdAt", "agents", "sent", "installed", "failed", "pending"}]}',
    )
    .action(on(() => import('./commands/rollouts.js')));
  program
    .command('inbox')
    .description('host: take in agent mail: version reports, update results, fault reports (acked), counters')
    .option('--every <duration>', 'loop: one pass every DURATION (e.g. 1m)')
    .option('--max <n>', 'at most N messages a pass')
    .addHelpText('after', '\nExample:\n  rds inbox --every 1m')
    .action(on(() => import('./commands/inbox.js')));

  program
    .command('request-counters')
    .description('host: ask agents for the counter readings they hold')
    .option('--agents <ids>', 'only these agents (comma-separated)')
    .option('--exclude <ids>', 'all but these agents (comma-separated)')
    .option('--wait <duration>', 'take in replies until all answered or DURATION passed')
    .addHelpText('after', '\nExample:\n  rds request-counters --wait 10m && rds counters export --csv > meters.csv')
    .action(on(() => import('./commands/request-counters.js')));
  const faults = program.command('faults').description('host: fault events received from agents');
  faults
    .command('list')
    .description('agent, device, code, severity, raised/cleared, acked')
    .option('--open', 'only faults not cleared yet')
    .option('--agent <id>', 'only this agent')
    .addHelpText(
      'after',
      '\nSource agent: a fault a device had, reported and acked. Source host: an event the host raises itself\n(supply-low, supply-empty, agent-silent, device-silent; cleared when resolved; Acked "-").\n\nExamples:\n  rds faults list --open\n  rds faults list --agent AGENT0000001 --json',
    )
    .action(on(() => import('./commands/faults-list.js')));
  const supplies = program.command('supplies').description('host: toner, drums, waste and maintenance kits from counter readings');
  supplies
    .command('list')
    .description('agent, device, supply, level %, read at, and the date it is forecast to run out')
    .option('--due <duration>', 'only what is empty or forecast to run out within DURATION: what to ship')
    .option('--agent <id>', 'only this agent')
    .addHelpText(
      'after',
      '\nThe forecast is a Theil-Sen line through the levels since the last replacement; "not enough history"\nbelow two readings or a span of service.supplies.minForecastSpan (3d). See docs/service.md.\n\nExamples:\n  rds supplies list\n  rds supplies list --due 14d --json',
    )
    .action(on(() => import('./commands/supplies-list.js')));
  const alerts = program.command('alerts').description('host: where events go (service.alerts.routes in the config)');
  alerts
    .command('test')
    .description('send a sample alert mail now to every routed address, or to ADDR')
    .option('--to <addr>', 'only this address')
    .addHelpText('after', '\nExamples:\n  rds alerts test\n  rds alerts test --to desk@service.example')
    .action(on(async () => ({ run: (await import('./commands/alerts.js')).runTest })));
  alerts
    .command('feed')
    .description('every event (agent faults and host events) since a time, for a ticket system')
    .option('--since <time>', 'only events at or after TIME (ISO 8601)')
    .addHelpText('after', '\nExample:\n  rds alerts feed --since 2026-12-01T00:00:00Z --json')
    .action(on(async () => ({ run: (await import('./commands/alerts.js')).runFeed })));
  const counters = program.command('counters').description('host: counter readings received from agents');
  counters
    .command('export')
    .description('one row per device reading (meter-read export)')
    .option('--csv', 'CSV (RFC 4180) instead of a table')
    .option('--since <time>', 'only readings taken at or after TIME (ISO 8601)')
    .option('--on <date>', 'meter reads by billing date: one row per device, read, estimated or missing (DATE: end of that day, UTC)')
    .option('--cycle <cycle>', 'billing cycle rows (start read, end read, pages used): monthly')
    .option('--day <n>', 'with --cycle monthly: the day of the month the cycle ends on (1-31)')
    .option('--tolerance <duration>', 'with --on/--cycle: how long before the date a reading still counts as read', '3d')
    .option('--max-gap <duration>', 'with --on/--cycle: no estimate from readings further apart than this', '35d')
    .option('--extrapolate', 'with --on/--cycle: estimate past the last (or before the first) reading too')
    .addHelpText(
      'after',
      '\nExamples:\n  rds counters export --csv --since 2026-11-01 > november.csv\n  rds counters export --on 2026-11-25 --csv > reads-2026-11-25.csv   # read / estimated (with its basis) / missing\n  rds counters export --cycle monthly --day 25 --csv > cycle.csv     # the cycle that ended on the last 25th',
    )
    .action(on(() => import('./commands/counters-export.js')));

  const agents = program.command('agents').description('host: the fleet registry');
  agents
    .command('add')
    .description('register an agent')
    .requiredOption('--id <id>', 'agent id')
    .requiredOption('--address <addr>', 'agent mail address')
    .requiredOption('--key <file>', 'agent public key (from `rds keys export` on the agent)')
    .option('--note <text>', 'customer note', '')
    .addHelpText(
      'after',
      '\nExample:\n  rds agents add --id AGENT0000001 --address agent1@aaa.example --key agent1.asc --note "aaa Trading"',
    )
    .action(on(() => import('./commands/agents-add.js')));
  agents
    .command('list')
    .description('list agents with version and last check time')
    .option('--silent <duration>', 'only agents not heard from for longer than DURATION, with a "Last heard" column')
    .addHelpText('after', '\nExamples:\n  rds agents list\n  rds agents list --silent 2d')
    .action(on(() => import('./commands/agents-list.js')));
  agents
    .command('show')
    .argument('<id>', 'agent id')
    .description('one agent: registry data, last seen, versions reported, rollouts with their results and install-log tail, open faults')
    .addHelpText(
      'after',
      '\nExamples:\n  rds agents show AGENT0000007          # why did its install roll back? (reason and the end of its install log)\n  rds agents show AGENT0000007 --json   # {"id", "address", "fingerprint", "note", "lastSeen", "versions", "rollouts", "openFaults"}',
    )
    .action(on(() => import('./commands/agents-show.js')));
  agents
    .command('remove')
    .argument('<id>', 'agent id')
    .description('remove an agent from the registry')
    .action(on(() => import('./commands/agents-remove.js')));
  agents
    .command('import')
    .argument('<file>', 'CSV with columns id,address,key[,note] (key: path to an armored key), or a JSON array')
    .description('register many agents at once')
    .addHelpText('after', '\nExample:\n  rds agents import fleet.csv')
    .action(on(() => import('./commands/agents-import.js')));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const state: { result?: Promise<CommandResult> } = {};
  const program = buildProgram(state);
  const json = argv.includes('--json');
  // `rds -v` alone is the version, as users expect (`-v` is not a flag of any command)
  if (argv.length === 3 && argv[2] === '-v') argv = [...argv.slice(0, 2), '--version'];
  try {
    await program.parseAsync(argv);
    if (!state.result) return EXIT.OK;
    const result = await state.result;
    const { printResult } = await import('./commands/output.js');
    printResult(result, json);
    return result.exitCode ?? EXIT.OK;
  } catch (error) {
    return reportError(error, json);
  }
}

function reportError(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return EXIT.OK;
    // commander printed the line on stderr; --json gets the same as data
    if (json) writeJsonError(commanderCode(error.code), error.message.replace(/^error: /, ''));
    return EXIT.USAGE;
  }
  const known = isRdsError(error) ? error : fromSystemError(error);
  if (known) {
    if (json) writeJsonError(known.code, known.message);
    process.stderr.write(`rds: ${showLines(known.message)}\n`);
    return known.exitCode;
  }
  process.stderr.write(`rds: this is a bug, please report it:\n${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.FAILED;
}

function writeJsonError(code: string, message: string): void {
  process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
}

/** commander.unknownOption → UNKNOWN_OPTION */
function commanderCode(code: string): string {
  return code
    .replace(/^commander\./, '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase();
}

/**
 * A file the operator named or a folder rds was pointed at is missing, a folder, or not
 * writable by this user: an ordinary mistake (exit 2, one line naming the path), never
 * "this is a bug". Covers SQLite's view of an unwritable state dir too.
 */
function fromSystemError(error: unknown): { code: string; message: string; exitCode: number } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; path?: unknown; syscall?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const WHY: Record<string, string> = {
    ENOENT: 'does not exist',
    EACCES: 'is not accessible to this user (check its owner and mode)',
    EPERM: 'is not accessible to this user (check its owner and mode)',
    EISDIR: 'is a folder, not a file',
    ENOTDIR: 'has a part that is not a folder',
    EROFS: 'is on a read-only file system',
    EEXIST: 'exists already',
  };
  if (typeof e.path === 'string' && WHY[code]) {
    return { code, message: `${e.path} ${WHY[code]}`, exitCode: EXIT.USAGE };
  }
  if (e.name === 'SqliteError' && /^SQLITE_(CANTOPEN|READONLY|PERM|AUTH)/.test(code)) {
    return {
      code,
      message: `the state database cannot be opened for writing (${String(e.message)}): the state dir must be writable by this user (see stateDir in the config)`,
      exitCode: EXIT.USAGE,
    };
  }
  return undefined;
}
