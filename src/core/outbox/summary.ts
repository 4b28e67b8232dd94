/**
 * What the mail of one command did, for every sending command alike: the `mail` member of
 * its --json, the one `mail:` line it prints, and the one exit rule (docs/commands.md).
 */
import { EXIT } from '../errors.js';
import type { Db } from '../store/db.js';
import { countPending, type FlushResult } from './outbox.js';

/** What the mail of one command did: the `mail` member of every sending command's --json. */
export interface MailSummary {
  sent: number;
  /** everything still waiting in the outbox after this command (earlier runs' mail too) */
  queued: number;
  /** refused this time; `ended`: for good (the item is failed), else it stays queued */
  failed: { to: string; kind: string; error: string; ended: boolean }[];
  /** why the rest stays queued: server unreachable / 4xx (exit 3), login, TLS or URL (exit 2) */
  stopped?: { code: string; message: string; exitCode: number };
}

/** The flushes of one command (those that ran), summed up, with what is still queued now. */
export function summariseFlushes(db: Db, flushes: (FlushResult | undefined)[]): MailSummary {
  const done = flushes.filter((f): f is FlushResult => f !== undefined);
  const stopped = done.find((f) => f.stopped)?.stopped;
  return {
    sent: done.reduce((n, f) => n + f.sent.length, 0),
    queued: countPending(db),
    failed: done.flatMap((f) =>
      f.failed.map((x) => ({ to: x.item.envelope.to.join(','), kind: x.item.kind, error: x.error, ended: x.ended })),
    ),
    ...(stopped ? { stopped: { code: stopped.code, message: stopped.message, exitCode: stopped.exitCode } } : {}),
  };
}

/**
 * The one line every sending command prints: how many mails went out, how many are still
 * queued and why, and which were refused. Empty when there was nothing to send.
 */
export function mailLine(mail: MailSummary): string {
  if (mail.sent === 0 && mail.queued === 0 && mail.failed.length === 0) return '';
  const parts = [`${mail.sent} sent`];
  const ended = mail.failed.filter((f) => f.ended);
  if (ended.length > 0) {
    parts.push(`${ended.length} failed for good (${ended.map((f) => `to ${f.to}: ${f.error}`).join('; ')}; see rds outbox list)`);
  }
  if (mail.queued > 0) {
    const why = mail.stopped
      ? mail.stopped.exitCode === EXIT.USAGE
        ? `${mail.stopped.message}; fix the config, they go out on the next run`
        : `${mail.stopped.message}; they go out on the next run`
      : 'sent on the next run';
    parts.push(`${mail.queued} still queued: ${why}`);
  }
  return `mail: ${parts.join(', ')}`;
}

/**
 * The one exit rule of sending commands: mail that could not go out because of the config
 * (login, TLS, URL) is 2 and because of the server (unreachable, 4xx) 3, whatever else the
 * command did; then the command's own code; then 1 when a mail was refused for good.
 */
export function mailExitCode(commandExit: number, mail: MailSummary): number {
  if (mail.stopped) return mail.stopped.exitCode;
  if (commandExit !== EXIT.OK) return commandExit;
  return mail.failed.length > 0 ? EXIT.FAILED : EXIT.OK;
}
