/** Both roles: the outbox (mail this node queued) and the quarantine (mail the checks refused). */
import { defineCommand } from './define.js';

const OUTBOX_ID = { name: '<id>', description: 'the ID (or message id) from rds outbox list' } as const;
const QUARANTINE_ID = { name: '<id>', description: 'quarantine id (from rds quarantine list)' } as const;

export const outboxList = defineCommand({
  name: 'list',
  description: 'queued, failed (refused for good) and dropped mail, and mail sent in the last 24 hours',
  flags: [{ flags: '--all', description: 'every sent mail too, not only the last 24 hours' }],
  help: '\nStates: queued (sent on the next run), failed (the server refused it for good, e.g. 550 5.1.1), dropped, sent.\n\nExamples:\n  rds outbox list\n  rds outbox list --json   # {"items": [{"seq", "messageId", "kind", "to", "createdAt", "attempts", "lastError", "state", …}], "queued", "failed", "dropped", "sent"}',
});

export const outboxRetry = defineCommand({
  name: 'retry',
  description: 'put a failed or dropped item back in the queue and try to send it now',
  args: [OUTBOX_ID],
  help: '\nExample:\n  rds outbox retry 17     # exit 0 sent, 1 refused again, 2 config (login, TLS), 3 server unreachable',
});

export const outboxDrop = defineCommand({
  name: 'drop',
  description: 'never send this queued or failed item (it is kept, marked dropped)',
  args: [OUTBOX_ID],
  help: '\nExample:\n  rds outbox drop 17',
});

export const quarantineList = defineCommand({
  name: 'list',
  description: 'every quarantined mail, newest first: id, when, reason code, sender, subject, state (kept, releasable, released)',
  help: '\nExamples:\n  rds quarantine list\n  rds quarantine list --json   # {"quarantine": [{"id", "receivedAt", "code", "reason", "from", "subject", "messageId", "payloadId", "location", "releasedAt", "releasable"}]}',
});

export const quarantineShow = defineCommand({
  name: 'show',
  description: 'one quarantined mail: the record, and whether the mail is still in the quarantine folder',
  args: [QUARANTINE_ID],
  help: '\nExample:\n  rds quarantine show 3',
});

export const quarantineRelease = defineCommand({
  name: 'release',
  description: 'move a quarantined mail back to the inbox, where the next receive pass checks it again like new mail',
  args: [QUARANTINE_ID],
  help: `
Only for reasons a change here can cure: UNKNOWN_SENDER, UNKNOWN_KEY, SENDER_MISMATCH,
SENDER_ID_MISMATCH (register or fix the agent, pin the right key), UNKNOWN_TYPE,
UNSUPPORTED_FORMAT (a newer rds), OVERSIZE (a larger maxMessageSize), FROM_FUTURE (a fixed
clock). Anything else (a bad signature, a replay, an expired or tampered message) is refused
with exit 2 and stays in quarantine.

Example:
  rds agents add --id AGENT0000009 --address agent9@example.com --key agent9.asc && rds quarantine release 3 && rds inbox`,
});
