import { readSecret, readTlsCa } from '../core/config/config.js';
import { UsageError } from '../core/errors.js';
import type { QuarantineMailOptions } from '../core/mail/quarantine-mail.js';
import {
  findQuarantine,
  listQuarantine,
  markReleased,
  parseQuarantineId,
  type QuarantineRecord,
} from '../core/message/quarantine-store.js';
import { checkReleasable, type QuarantinedMail, quarantineDetail, quarantineTable } from '../core/message/quarantine-view.js';
import { showText } from '../core/text/show.js';
import { type Context, openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { quarantineRelease, quarantineShow } from './specs/queues.js';
import type { CommandResult, GlobalOptions } from './types.js';

function mailOptions(ctx: Context): QuarantineMailOptions {
  const password = readSecret(ctx.env.RDS_IMAP_PASSWORD, ctx.config.imapPasswordFile, 'IMAP password');
  return {
    imap: ctx.config.imap,
    address: ctx.config.address,
    folder: ctx.config.quarantineFolder,
    logger: ctx.logger,
    ...(password ? { passwordOverride: password } : {}),
    ...(ctx.config.tlsCa ? { ca: readTlsCa(ctx.config.tlsCa) } : {}),
  };
}

/** show and release: the record the argument names, in an open context closed after `fn`. */
async function withRecord(
  globals: GlobalOptions,
  command: string,
  arg: string | undefined,
  fn: (ctx: Context, q: QuarantineRecord) => Promise<CommandResult>,
): Promise<CommandResult> {
  const id = parseQuarantineId(arg);
  const ctx = await openContext(globals, command);
  try {
    return await fn(ctx, findQuarantine(ctx.db, id));
  } finally {
    ctx.close();
  }
}

export async function runList(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'quarantine list');
  try {
    const quarantine = listQuarantine(ctx.db);
    return { data: { quarantine }, text: quarantineTable(quarantine) };
  } finally {
    ctx.close();
  }
}

export async function runShow(options: OptionsOf<typeof quarantineShow>, globals: GlobalOptions): Promise<CommandResult> {
  return withRecord(globals, 'quarantine show', options.args?.[0], async (ctx, q) => {
    // the folder: is the mail still there? (a server that cannot be asked is said so, not fatal)
    const folder = ctx.config.quarantineFolder;
    let mail: QuarantinedMail;
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
    return { data: { ...q, mail }, text: quarantineDetail(q, mail) };
  });
}

// no receive-pass lock: `poll-mail --every` holds it for good, and a move into the inbox is
// atomic (rename, IMAP MOVE); a pass running meanwhile takes the mail now or next time
export async function runRelease(options: OptionsOf<typeof quarantineRelease>, globals: GlobalOptions): Promise<CommandResult> {
  return withRecord(globals, 'quarantine release', options.args?.[0], async (ctx, q) => {
    checkReleasable(q, ctx.config.quarantineFolder);
    if (ctx.config.role === 'host' && q.code === 'UNKNOWN_SENDER' && q.from) {
      const { findAgentsByAddress } = await import('../core/host/registry.js');
      if (findAgentsByAddress(ctx.db, q.from).length === 0) {
        throw new UsageError(
          'STILL_UNKNOWN_SENDER',
          `no agent is registered with address ${showText(q.from)} yet: rds agents add first, then release ${q.id}`,
        );
      }
    }
    const { releaseQuarantined } = await import('../core/mail/quarantine-mail.js');
    const where = await releaseQuarantined(mailOptions(ctx), q, q.id);
    markReleased(ctx.db, q.id, ctx.clock.now());
    const next = ctx.config.role === 'host' ? 'rds inbox' : 'rds poll-mail';
    return {
      data: { id: q.id, code: q.code, releasedTo: where },
      text: `released quarantined mail ${q.id} (${q.code}) to the inbox: the next \`${next}\` checks it again like new mail`,
    };
  });
}
