/** The agent's commands: install, report, watch the devices, read host mail. */
import { defineCommand } from './define.js';
import { every, MAX } from './flags.js';

export const applyUpdate = defineCommand({
  name: 'apply-update',
  description: 'agent: verify and install an update package from a file (.rdsu, or .rdsx from export-update)',
  args: [{ name: '<file>', description: 'an .rdsu update package, or an .rdsx exported for this agent' }],
  help: '\nExamples:\n  rds apply-update /tmp/update-1.0.02-0.rdsu\n  rds apply-update /media/usb/update-1.0.02-0-AGENT0000007.rdsx   # then rds poll-mail reports it',
});

export const versions = defineCommand({
  name: 'versions',
  description: "agent: print this agent's version report (docs/formats.md)",
  flags: [{ flags: '--aligned', description: 'pad columns with spaces, as the original system printed it' }],
  help: '\nExample:\n  rds versions',
});

export const watchFaults = defineCommand({
  name: 'watch-faults',
  description: 'agent: poll every device for faults; report new and cleared ones; resend unacked ones once',
  flags: [every('60s')],
  help: '\nExamples:\n  rds watch-faults               # one pass (cron, every minute)\n  rds watch-faults --every 60s   # loop (systemd service)',
});

export const collectCounters = defineCommand({
  name: 'collect-counters',
  description: 'agent: read the counters of every device and store one reading each',
  flags: [every('60m')],
  help: '\nExample:\n  rds collect-counters --every 60m',
});

export const heartbeat = defineCommand({
  name: 'heartbeat',
  description: 'agent: send the host a signed heartbeat now (watch-faults sends one every heartbeatInterval, default 1d)',
  help: '\nThe heartbeat names the devices this agent watches and when each last answered, so the host can\ntell a silent agent or device from a quiet one (rds agents list --silent 2d on the host).\n\nExample:\n  rds heartbeat',
});

export const devicesAdd = defineCommand({
  name: 'add',
  description: 'add a device',
  flags: [
    { flags: '--id <id>', description: 'device id, e.g. mfp-2f-east', mandatory: true },
    { flags: '--driver <driver>', description: 'how to reach it', choices: ['snmp', 'ipp', 'simulated'], default: 'snmp' },
    { flags: '--address <host[:port]|url>', description: 'snmp: HOST[:PORT]; ipp: ipp://host[:631]/ipp/print or ipps://…' },
    { flags: '--community <c>', description: 'snmp v1/v2c: community', default: 'public' },
    { flags: '--snmp-version <v>', description: 'snmp version (the --v3-* options need 3)', choices: ['1', '2c', '3'], default: '2c' },
    { flags: '--v3-user <name>', description: 'snmp v3: user' },
    { flags: '--v3-level <level>', description: 'snmp v3: noAuthNoPriv | authNoPriv | authPriv (default: authPriv)' },
    { flags: '--v3-auth-protocol <p>', description: 'snmp v3: md5 | sha | sha256 | … (default: sha)' },
    { flags: '--v3-auth-key <key>', description: 'snmp v3: authentication pass phrase' },
    { flags: '--v3-priv-protocol <p>', description: 'snmp v3: des | aes | … (default: aes)' },
    { flags: '--v3-priv-key <key>', description: 'snmp v3: privacy pass phrase' },
    { flags: '--v3-context <name>', description: 'snmp v3: context name' },
    { flags: '--timeout <ms>', description: 'snmp, ipp: timeout per request in ms' },
    { flags: '--retries <n>', description: 'snmp: retries per request' },
    {
      flags: '--kind <kind>',
      description: 'snmp: printer (Printer-MIB) or host (a PC or server: HOST-RESOURCES-MIB)',
      choices: ['printer', 'host'],
    },
    { flags: '--disk-threshold <percent>', description: 'host: a disk this full is a fault (default 90)' },
    { flags: '--memory-threshold <percent>', description: 'host: memory this full is a fault (default 95)' },
    { flags: '--file <file>', description: 'simulated: the JSON file describing the printers' },
    { flags: '--name <name>', description: 'simulated: the device name in that file (default: the id)' },
  ],
  help: '\nExamples:\n  rds devices add --id mfp-1 --driver snmp --address 192.0.2.10 --community public\n  rds devices add --id mfp-2 --driver snmp --address 192.0.2.11 --snmp-version 3 --v3-user rds --v3-auth-key … --v3-priv-key …\n  rds devices add --id pc1 --driver snmp --kind host --address 192.0.2.30 --disk-threshold 85\n  rds devices add --id lp-3 --driver ipp --address ipp://192.0.2.20:631/ipp/print\n  rds devices add --id sim-1 --driver simulated --file printers.json',
});

export const devicesList = defineCommand({
  name: 'list',
  description: 'list devices: id, driver, address, SNMP version (secrets redacted)',
  help: '\nExample:\n  rds devices list --json',
});

export const devicesDiscover = defineCommand({
  name: 'discover',
  description: 'find SNMP printers, MFPs and hosts and IPP printers; list them (watched already?); add them with --add',
  args: [{ name: '<target>', description: 'ADDRESS, CIDR (192.0.2.0/24) or RANGE (192.0.2.10-50); at most a /16' }],
  flags: [
    { flags: '--port <port>', description: 'SNMP UDP port', default: '161' },
    { flags: '--community <c>', description: 'SNMP v2c community', default: 'public' },
    { flags: '--ipp-port <port>', description: 'IPP TCP port', default: '631' },
    { flags: '--timeout <ms>', description: 'per address and protocol', default: '1000' },
    { flags: '--add', description: 'add what is new; a known serial at a new address updates that device' },
  ],
  help: '\nExamples:\n  rds devices discover 192.0.2.0/24\n  rds devices discover 192.0.2.10-192.0.2.60 --community office --add',
});

export const devicesRemove = defineCommand({
  name: 'remove',
  description: 'stop watching a device',
  args: [{ name: '<id>', description: 'device id' }],
});

export const pollMail = defineCommand({
  name: 'poll-mail',
  description: 'agent: take host mail one message at a time: verify, then act (update, version request, ack, counter request)',
  flags: [
    every('3m'),
    MAX,
    {
      flags: '--request-missing-after <duration>',
      description:
        'ask the host for the missing parts of a package still incomplete this long after its newest part (default: config parts.requestMissingAfter, 30m)',
    },
  ],
  help: '\nExamples:\n  rds poll-mail                 # one pass (cron)\n  rds poll-mail --every 3m      # loop (systemd service)',
});
