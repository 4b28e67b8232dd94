/**
 * Alert routing: every new event (a fault an agent raised, or an event the host raised)
 * goes to each address whose route matches its severity and kind, as one plain-text mail
 * per recipient per interval. The queue and each recipient's last send live in the host
 * store, so cron runs of `rds inbox` respect the interval.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { buildComposed } from '../message/mail.js';
import { enqueue } from '../outbox/outbox.js';
import type { Db } from '../store/db.js';
import { showText } from '../text/show.js';
import type { EventRow } from './host-events.js';
import { routeMatches, type ServiceSettings } from './settings.js';

export interface AlertEvent {
  source: 'agent' | 'host';
  ref: string;
  kind: string;
  severity: string;
  agentId: string;
  deviceId: string;
  subject: string;
  detail: string;
  at: string;
  clearedAt: string | null;
}

/** Every event raised at or after `since` (host receive time for agent faults), oldest first. */
export function eventsSince(db: Db, since: string | null): AlertEvent[] {
  const faults = db
    .prepare(
      `SELECT agent_id, event_id, device_id, code, subunit, severity, raised_at, received_at, cleared_at FROM host_faults
       WHERE (? IS NULL OR received_at >= ?) ORDER BY received_at, agent_id, event_id`,
    )
    .all(since, since) as {
    agent_id: string;
    event_id: string;
    device_id: string;
    code: string;
    subunit: string;
    severity: string;
    raised_at: string;
    received_at: string;
    cleared_at: string | null;
  }[];
  const host = db
    .prepare('SELECT * FROM host_events WHERE (? IS NULL OR raised_at >= ?) ORDER BY raised_at, id')
    .all(since, since) as EventRow[];
  const events: AlertEvent[] = [
    ...faults.map((f) => ({
      source: 'agent' as const,
      ref: `${f.agent_id}/${f.event_id}`,
      kind: f.code,
      severity: f.severity,
      agentId: f.agent_id,
      deviceId: f.device_id,
      subject: f.subunit,
      detail: `raised ${f.raised_at}`,
      at: f.received_at,
      clearedAt: f.cleared_at,
    })),
    ...host.map((e) => ({
      source: 'host' as const,
      ref: `host-event/${e.id}`,
      kind: e.kind,
      severity: e.severity,
      agentId: e.agent_id,
      deviceId: e.device_id,
      subject: e.subject,
      detail: e.detail,
      at: e.raised_at,
      clearedAt: e.cleared_at,
    })),
  ];
  return events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

function getState(db: Db, key: string): string | null {
  return (db.prepare('SELECT value FROM service_state WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;
}

function setState(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO service_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** Queue the events new since the last routing pass for every matching recipient; returns how many were queued. */
export function routeNewEvents(db: Db, settings: ServiceSettings, now: Date): number {
  const cursor = getState(db, 'alerts.cursor');
  const insert = db.prepare(
    `INSERT OR IGNORE INTO alert_queue (recipient, source, ref, kind, severity, agent_id, device_id, subject, detail, event_at, queued_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let queued = 0;
  db.transaction(() => {
    for (const e of eventsSince(db, cursor)) {
      const to = new Set(settings.routes.filter((r) => routeMatches(r, e)).flatMap((r) => r.to.map((a) => a.toLowerCase())));
      for (const recipient of to) {
        queued += insert.run(
          recipient,
          e.source,
          e.ref,
          e.kind,
          e.severity,
          e.agentId,
          e.deviceId,
          e.subject,
          e.detail,
          e.at,
          now.toISOString(),
        ).changes;
      }
    }
    setState(db, 'alerts.cursor', now.toISOString());
  }).immediate(); // the write lock first: several inbox workers route at once (docs/deployment.md#workers)
  return queued;
}

/** Thrown inside the batch transaction (rolling it back) when another worker marked its rows first. */
class BatchedElsewhere extends Error {}

function runUnlessBatchedElsewhere(fn: () => boolean): boolean {
  try {
    return fn();
  } catch (error) {
    if (error instanceof BatchedElsewhere) return false;
    throw error;
  }
}

interface QueueRow {
  id: number;
  recipient: string;
  kind: string;
  severity: string;
  agent_id: string;
  device_id: string;
  subject: string;
  detail: string;
  event_at: string;
}

export interface AlertBatch {
  recipient: string;
  events: number;
  subject: string;
}

/** The readable body of an alert mail: one block per event, outside text neutralised. */
export function alertText(rows: readonly Omit<QueueRow, 'id' | 'recipient'>[], hostId: string): string {
  const lines = [`rds host ${showText(hostId)}: ${rows.length} new event${rows.length === 1 ? '' : 's'}.`, ''];
  for (const r of rows) {
    const where = [r.agent_id, r.device_id].filter(Boolean).map(showText).join(' / ');
    lines.push(`${r.severity.toUpperCase()}  ${showText(r.kind)}  ${where}${r.subject ? `  (${showText(r.subject)})` : ''}`);
    lines.push(`  at ${r.event_at}${r.detail ? `: ${showText(r.detail)}` : ''}`);
  }
  lines.push('', 'rds faults list --open   and   rds supplies list --due 14d   on the host show the state now.');
  return `${lines.join('\n')}\n`;
}

export async function composePlainMail(input: { from: string; to: string; subject: string; text: string; date: Date }): Promise<{
  raw: Buffer;
  messageId: string;
}> {
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const domain = input.from.split('@')[1] ?? 'rds.invalid';
  const messageId = `<alert-${randomUUID()}@${domain}>`;
  const composer = new MailComposer({
    from: input.from,
    to: input.to,
    subject: input.subject,
    text: input.text,
    messageId,
    date: input.date,
    headers: { 'X-RDS-Type': 'alert', 'Auto-Submitted': 'auto-generated' },
  });
  const raw = await buildComposed(composer);
  return { raw, messageId };
}

/**
 * One mail per recipient whose interval has passed since its last alert mail, holding every
 * queued event; into the outbox (the caller flushes). Recipients still inside their
 * interval keep their events queued for the next batch.
 */
export async function batchAlerts(
  db: Db,
  settings: ServiceSettings,
  host: { id: string; address: string },
  clock: Clock,
): Promise<AlertBatch[]> {
  const now = clock.now();
  const from = settings.alertFrom ?? host.address;
  const recipients = db.prepare('SELECT DISTINCT recipient FROM alert_queue WHERE sent_at IS NULL ORDER BY recipient').all() as {
    recipient: string;
  }[];
  const batches: AlertBatch[] = [];
  for (const { recipient } of recipients) {
    const last = db.prepare('SELECT last_sent_at FROM alert_recipients WHERE recipient = ?').get(recipient) as
      | { last_sent_at: string }
      | undefined;
    if (last && now.getTime() - Date.parse(last.last_sent_at) < settings.alertIntervalMs) continue;
    const rows = db
      .prepare('SELECT * FROM alert_queue WHERE recipient = ? AND sent_at IS NULL ORDER BY event_at, id')
      .all(recipient) as QueueRow[];
    const first = rows[0] as QueueRow;
    const subject = `[rds] ${rows.length} event${rows.length === 1 ? '' : 's'}: ${showText(first.kind)} on ${showText(first.agent_id)}${first.device_id ? `/${showText(first.device_id)}` : ''}${rows.length > 1 ? ` (+${rows.length - 1})` : ''}`;
    const mail = await composePlainMail({ from, to: recipient, subject, text: alertText(rows, host.id), date: now });
    // another inbox worker may have batched these rows meanwhile: queued only if all are still unsent
    const queuedHere = db.transaction(() => {
      const marked = db
        .prepare(`UPDATE alert_queue SET sent_at = ? WHERE sent_at IS NULL AND id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))`)
        .run(now.toISOString(), JSON.stringify(rows.map((r) => r.id))).changes;
      if (marked !== rows.length) throw new BatchedElsewhere();
      enqueue(db, { messageId: mail.messageId, kind: 'alert', ref: recipient, envelope: { from, to: [recipient] }, raw: mail.raw }, now);
      db.prepare(
        'INSERT INTO alert_recipients (recipient, last_sent_at) VALUES (?, ?) ON CONFLICT (recipient) DO UPDATE SET last_sent_at = excluded.last_sent_at',
      ).run(recipient, now.toISOString());
      return true;
    });
    if (!runUnlessBatchedElsewhere(() => queuedHere.immediate())) continue;
    batches.push({ recipient, events: rows.length, subject });
  }
  return batches;
}

/** `rds alerts test`: a sample mail to each address, now, outside the batching. */
export async function queueTestAlert(db: Db, host: { id: string; address: string }, settings: ServiceSettings, to: string[], clock: Clock) {
  const now = clock.now();
  const from = settings.alertFrom ?? host.address;
  const sample = [
    {
      kind: 'supply-low',
      severity: 'warning',
      agent_id: 'AGENT-SAMPLE',
      device_id: 'mfp-sample',
      subject: 'Black Toner',
      detail: 'a sample event from rds alerts test: nothing is wrong',
      event_at: now.toISOString(),
    },
  ];
  const sent: { recipient: string; messageId: string }[] = [];
  for (const recipient of to) {
    const mail = await composePlainMail({
      from,
      to: recipient,
      subject: `[rds] test alert from ${showText(host.id)}`,
      text: alertText(sample, host.id),
      date: now,
    });
    enqueue(db, { messageId: mail.messageId, kind: 'alert-test', ref: recipient, envelope: { from, to: [recipient] }, raw: mail.raw }, now);
    sent.push({ recipient, messageId: mail.messageId });
  }
  return sent;
}
