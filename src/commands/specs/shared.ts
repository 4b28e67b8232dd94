/** The commands both roles have: setup, keys, checks, the outbox and the quarantine. */
import { defineCommand } from './define.js';

export const init = defineCommand({
  name: 'init',
  description: "write DIR/config.json, generate this node's key pair, create the state dir",
  flags: [
    { flags: '--role <role>', description: 'agent or host', choices: ['agent', 'host'], mandatory: true },
    { flags: '--id <id>', description: 'node id, e.g. AGENT0000001', mandatory: true },
    { flags: '--address <addr>', description: "this node's mail address", mandatory: true },
    { flags: '--smtp <url>', description: 'smtp://user:pass@host:port, smtps://…, or maildir:///path', mandatory: true },
    { flags: '--inbox <url>', description: 'where mail is read: imap://…, imaps://…, pop3://…, pop3s://…, or maildir:///path' },
    { flags: '--imap <url>', description: 'the same as --inbox (kept for existing scripts)' },
    { flags: '--dir <dir>', description: 'folder for config, keys and state', default: '.' },
    { flags: '--host-address <addr>', description: "agent: the host's mail address" },
    { flags: '--host-id <id>', description: "agent: the host's node id", default: 'HOST' },
    { flags: '--host-key <file>', description: "agent: the host's armored public key (pinned)" },
    { flags: '--software-version <v>', description: 'agent: the version running now', default: '1.0.00-0' },
    { flags: '--rom-version <v>', description: 'agent: ROM version for the version report' },
    { flags: '--install-root <dir>', description: 'agent: install root (releases/ and current)' },
    { flags: '--install-window <HH:MM-HH:MM>', description: 'agent: install updates only then, local time, e.g. 22:00-06:00' },
    { flags: '--tls-ca <file>', description: 'PEM of a private CA to trust for SMTP/IMAP/POP3 TLS' },
    { flags: '--smtp-password-file <file>', description: 'read the SMTP password from this file' },
    { flags: '--imap-password-file <file>', description: 'read the inbox (IMAP or POP3) password from this file' },
    {
      flags: '--store <url>',
      description: 'host: where its state lives: sqlite (default) or postgres://USER@HOST:PORT/DB[?sslmode=disable]',
    },
    { flags: '--store-password-file <file>', description: 'host: read the PostgreSQL password from this file (else RDS_STORE_PASSWORD)' },
    {
      flags: '--state-dir <dir>',
      description: 'state folder (SQLite store, outbox, logs; default: DIR/state), e.g. /var/lib/rds/state',
    },
  ],
  help: `
Examples:
  rds init --role host --id HOST --address host@example.com --smtp smtps://host%40example.com@mail.example.com --imap imaps://host%40example.com@mail.example.com --dir /etc/rds
  rds init --role agent --id AGENT0000001 --address agent1@example.com --host-address host@example.com \\
           --host-key host.asc --smtp smtps://… --inbox imaps://… --software-version 1.0.00-1 --dir /etc/rds
  rds init --role agent … --inbox 'pop3s://agent1%40example.com@mail.example.com'   (POP3: handled mail is deleted)
  RDS_STORE_PASSWORD=… rds init --role host … --store postgres://rds@db.example.com:5432/rds   (state in PostgreSQL)`,
});

export const demo = defineCommand({
  name: 'demo',
  description: 'the whole story on an embedded mail system: a jam, counters, an update to the fleet, verify',
  flags: [
    { flags: '--agents <n>', description: 'fleet size', default: '17' },
    { flags: '--keep <dir>', description: 'keep configs, mailboxes and databases in DIR' },
  ],
  help: '\nExamples:\n  rds demo\n  rds demo --agents 5 --keep /tmp/rds-demo',
});

export const keysExport = defineCommand({
  name: 'export',
  description: "print this node's armored public key (register an agent at the host with it)",
  help: '\nExample:\n  rds keys export > agent1.asc',
});

export const keysShow = defineCommand({
  name: 'show',
  description: "print this node's role, id and key fingerprint; on an agent also the pinned host key's fingerprint and file",
  help: '\nExamples:\n  rds keys show          # compare with the fingerprint the other side registered or pinned\n  rds keys show --json   # {"role", "id", "fingerprint", "hostKey": {"fingerprint", "file"}} (hostKey: agent only)',
});

export const keysRotate = defineCommand({
  name: 'rotate',
  description: 'host: new host key, announced to every agent in a message signed by the old key',
  help: '\nExample:\n  rds keys rotate && rds pack-update … # re-pack: packages are encrypted to the host key',
});

export const doctor = defineCommand({
  name: 'doctor',
  description: 'check the config and everything it points at (files, keys, mail servers, devices): one line each, ok or FAIL with the fix',
  help: `
Checks: the config; owners and modes of the config, keys, password files and state dir; the
state dir writable and its database; the key passphrase; the pinned host key (agent); SMTP
login with STARTTLS/TLS verified against the configured CA; IMAP login, INBOX and the
processed and quarantine folders; each device answering SNMP (agent, 2 s timeout).
Exit 0 only when every check passed, 1 when one failed, 2 when the config cannot be read.

Examples:
  rds doctor
  rds doctor --json   # {"ok", "checks": [{"name", "ok", "detail", "fix"}]}`,
});

export const completion = defineCommand({
  name: 'completion',
  description: 'print a shell completion script',
  args: [{ name: '<shell>', description: 'bash or zsh' }],
  help: `\nExamples:\n  eval "$(rds completion bash)"\n  rds completion zsh > "\${fpath[1]}/_rds"`,
});
