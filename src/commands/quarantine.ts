import fs from 'node:fs';
import { readSecret } from '../core/config/config.js';
import { UsageError } from '../core/errors.js';
import type { QuarantineMailOptions } from '../core/mail/quarantine-mail.js';
import {
  findQuarantine,
  listQuarantine,
  markReleased,
  parseQuarantineId,
  type QuarantineRecord,
} from '../core/message/quarantine-store.js';
import { showText } from '../core/text/show.js';
import { type Context, openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { quarantineRelease, quarantineShow } from './specs/queues.js';
import { formatTable, formatTime, formatTimeZoned, timeColumn } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

function mailOptions(ctx: Context): QuarantineMailOptions {
  const password = readSecret(ctx.env.RDS_IMAP_PASSWORD, ctx.config.imapPasswordFile, 'IMAP password');
  return {
    imap: ctx.config.imap,
    address: ctx.config.address,
    folder: ctx.config.quarantineFolder,
    logger: ctx.logger,
    ...(password ? { passwordOverride: password } : {}),
    ...(ctx.config.tlsCa ? { ca: readCa(ctx.config.tlsCa) } : {}),
  };
}

function readCa(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new UsageError(
      'TLS_CA_UNREADABLE',
      `TLS CA ${file} (tlsCa in the config) cannot be read (${(error as NodeJS.ErrnoException).code})`,
    );
  }
}

const state = (q: QuarantineRecord) => (q.releasedAt ? `released ${formatTime(q.releasedAt)}` : q.releasable ? 'releasable' : 'kept');

export async function runList(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'quarantine list');
  try {
    const quarantine = listQuarantine(ctx.db);
    const text =
      quarantine.length === 0
        ? 'nothing quarantined'
        : formatTable(
            ['ID', timeColumn('Received'), 'Code', 'From', 'Subject', 'State'],
            quarantine.map((q) => [String(q.id), q.receivedAt, q.code, q.from ?? '-', q.subject ?? '-', state(q)]),
          );
    return { data: { quarantine }, text };
  } finally {
    ctx.close();
  }
}

export async function runShow(options: OptionsOf<typeof quarantineShow>, globals: GlobalOptions): Promise<CommandResult> {
  const id = parseQuarantineId(options.args?.[0]);
  const ctx = await openContext(globals, 'quarantine show');
  try {
    const q = findQuarantine(ctx.db, id);
    // the folder: is the mail still there? (a server that cannot be asked is said so, not fatal)
    let mail: { folder: string; present: boolean | null; where: string | null; reasonFile?: string; error?: string };
    const folder = ctx.config.quarantineFolder;
    try {
      const { findQuarantined } = await import('../core/mail/quarantine-mail.js');
      const found = await findQuarantined({ ...mailOptions(ctx), timeoutMs: 15_000 }, q);
      mail = {
        folder,
        present: found !== undefined,
        where: found?.where ?? null,
        ...(found?.reasonFile ? { reasonFile: found.reasonFile } : {}),
      };
    } catch (error) {
      mail = { folder, present: null, where: null, error: (error as Error).message };
    }
    const lines = [
      `quarantined mail ${q.id}`,
      `  received     ${formatTimeZoned(q.receivedAt)}`,
      `  code         ${showText(q.code)}`,
      `  reason       ${showText(q.reason)}`,
      `  from         ${showText(q.from ?? '-')}`,
      `  subject      ${showText(q.subject ?? '-')}`,
      `  message-id   ${showText(q.messageId ?? '-')}`,
      `  payload id   ${showText(q.payloadId ?? '-')}`,
      `  mail         ${
        mail.present === null
          ? `unknown: ${showText(mail.error ?? '')}`
          : mail.present
            ? showText(mail.where ?? '')
            : `not in ${showText(folder)} any more`
      }`,
      `  state        ${
        q.releasedAt
          ? `released ${formatTime(q.releasedAt)}`
          : q.releasable
            ? `releasable: fix the cause, then rds quarantine release ${q.id}`
            : `kept: re-checking cannot cure ${showText(q.code)}`
      }`,
    ];
    return { data: { ...q, mail }, text: lines.join('\n') };
  } finally {
    ctx.close();
  }
}

export async function runRelease(options: OptionsOf<typeof quarantineRelease>, globals: GlobalOptions): Promise<CommandResult> {
  const id = parseQuarantineId(options.args?.[0]);
  // no receive-pass lock: `poll-mail --every` holds it for good, and a move into the inbox is
  // atomic (rename, IMAP MOVE); a pass running meanwhile takes the mail now or next time
  const ctx = await openContext(globals, 'quarantine release');
  try {
    const q = findQuarantine(ctx.db, id);
    if (q.releasedAt) throw new UsageError('ALREADY_RELEASED', `quarantined mail ${id} was released already (${q.releasedAt})`);
    if (!q.releasable) {
      throw new UsageError(
        'NOT_RELEASABLE',
        `quarantined mail ${id} was refused for ${q.code}, which re-checking cannot cure; it stays in ${ctx.config.quarantineFolder}`,
      );
    }
    if (ctx.config.role === 'host' && q.code === 'UNKNOWN_SENDER' && q.from) {
      const { findAgentsByAddress } = await import('../core/host/registry.js');
      if (findAgentsByAddress(ctx.db, q.from).length === 0) {
        throw new UsageError(
          'STILL_UNKNOWN_SENDER',
          `no agent is registered with address ${showText(q.from)} yet: rds agents add first, then release ${id}`,
        );
      }
    }
    const { releaseQuarantined } = await import('../core/mail/quarantine-mail.js');
    const where = await releaseQuarantined(mailOptions(ctx), q, id);
    markReleased(ctx.db, id, ctx.clock.now());
    const next = ctx.config.role === 'host' ? 'rds inbox' : 'rds poll-mail';
    return {
      data: { id, code: q.code, releasedTo: where },
      text: `released quarantined mail ${id} (${q.code}) to the inbox: the next \`${next}\` checks it again like new mail`,
    };
  } finally {
    ctx.close();
  }
}
