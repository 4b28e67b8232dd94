/** Both roles: the node's audit trail (docs/audit.md). */
import { command, defineCommand, group } from './define.js';

export const auditList = defineCommand({
  name: 'list',
  description: 'the audit trail: who did what, when, on which agents, with which package; outcomes too',
  flags: [{ flags: '--since <time>', description: 'only entries at or after TIME (ISO 8601)' }],
  help: '\nOn the host: fleet actions (agents, keys, packages, rollouts, requests, verify) and outcomes (update\nresults, quarantined mail). On an agent: installs, rollbacks, quarantined mail.\n\nExamples:\n  rds audit list --since 2026-12-01\n  rds audit list --json   # {"entries": [{"seq", "at", "by": {"user", "node"}, "action", "agents", "package", "status", "detail"}]}',
});

export const auditVerify = defineCommand({
  name: 'verify',
  description: "check the audit trail's hash chain and signed checkpoints; exit 4 naming the first bad entry",
  flags: [
    { flags: '--file <file>', description: 'an export (rds audit export) instead of this node’s store; needs --key' },
    { flags: '--key <file>', description: "the node's armored public key (repeatable: old keys after a rotation)", repeatable: true },
  ],
  help: '\nExit 0: every entry chains and every checkpoint is signed by the node key; 4: an entry was edited,\ndeleted, reordered or cut off, or a checkpoint forged (the line names the first bad entry).\n\nExamples:\n  rds audit verify\n  rds audit verify --file audit-2026-12.jsonl --key host.asc   # an auditor, with the public key alone',
});

export const auditExport = defineCommand({
  name: 'export',
  description: 'write every entry and checkpoint to FILE (JSON lines) for archiving elsewhere',
  flags: [{ flags: '-o, --output <file>', description: 'the file to write (mode 0600)', mandatory: true }],
  help: '\nExample:\n  rds audit export -o audit-2026-12.jsonl && rds keys export > host.asc',
});

export const AUDIT_GROUP = group('audit', 'the audit trail: who did what, when; tamper-evident (docs/audit.md)', [
  command(auditList, async () => (await import('../audit.js')).runList),
  command(auditVerify, async () => (await import('../audit-verify.js')).run),
  command(auditExport, async () => (await import('../audit.js')).runExport),
]);
