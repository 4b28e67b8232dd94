/**
 * What the host keeps for the service desk: supply levels out of counter readings, when each
 * agent was last heard (host receive time, any accepted message) and each device last
 * answered, and the fault-like events it raises itself. `servicePass` raises and clears
 * those events; `rds inbox` runs it after taking in mail, and the listings run it too.
 */
import type { Db } from '../store/db.js';
import { runLater, statement as stmt } from '../store/statement.js';
import { isPostgres } from '../store/types.js';
import { type ServiceSettings, type SupplyKind, thresholdsFor } from './settings.js';
import { classifySupply, type ReportedSupply, remainingPercent, supplyState } from './supplies.js';

export const HOST_EVENT_KINDS = ['supply-low', 'supply-empty', 'agent-silent', 'device-silent'] as const;
export type HostEventKind = (typeof HOST_EVENT_KINDS)[number];

export interface HostEvent {
  id: number;
  kind: HostEventKind;
  agentId: string;
  deviceId: string;
  subject: string;
  severity: string;
  detail: string;
  raisedAt: string;
  clearedAt: string | null;
  clearReason: string | null;
}

/** A row of host_events as stored. */
export interface EventRow {
  id: number;
  kind: HostEventKind;
  agent_id: string;
  device_id: string;
  subject: string;
  severity: string;
  detail: string;
  raised_at: string;
  cleared_at: string | null;
  clear_reason: string | null;
}

const fromRow = (r: EventRow): HostEvent => ({
  id: r.id,
  kind: r.kind,
  agentId: r.agent_id,
  deviceId: r.device_id,
  subject: r.subject,
  severity: r.severity,
  detail: r.detail,
  raisedAt: r.raised_at,
  clearedAt: r.cleared_at,
  clearReason: r.clear_reason,
});

export function recordHeard(db: Db, agentId: string, type: string, now: Date): void {
  runLater(
    db,
    `INSERT INTO host_heard (agent_id, last_heard_at, last_type) VALUES (?, ?, ?)
     ON CONFLICT (agent_id) DO UPDATE SET last_heard_at = excluded.last_heard_at, last_type = excluded.last_type
     WHERE excluded.last_heard_at >= host_heard.last_heard_at`,
    agentId,
    now.toISOString(),
    type,
  );
}

/** A device the agent says it watches, and when it last answered (null: not since the agent started watching). */
export function recordDeviceSeen(db: Db, agentId: string, deviceId: string, lastAnsweredAt: string | null, now: Date): void {
  db.prepare(
    `INSERT INTO host_device_seen (agent_id, device_id, last_answered_at, first_reported_at, reported_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (agent_id, device_id) DO UPDATE SET reported_at = excluded.reported_at,
       last_answered_at = CASE WHEN host_device_seen.last_answered_at IS NULL OR excluded.last_answered_at > host_device_seen.last_answered_at
         THEN COALESCE(excluded.last_answered_at, host_device_seen.last_answered_at) ELSE host_device_seen.last_answered_at END`,
  ).run(agentId, deviceId, lastAnsweredAt, now.toISOString(), now.toISOString());
}

/**
 * The supplies of one counter reading, as remaining %, with replacements (a jump up by at
 * least `replacementJump` points over the reading before it) recorded. Unknown levels are skipped.
 */
export function storeSupplyLevels(
  db: Db,
  agentId: string,
  reading: { deviceId: string; readAt: string; readingId: string; supplies?: unknown },
  settings: ServiceSettings,
  now: Date,
): number {
  if (!Array.isArray(reading.supplies)) return 0;
  const foundAt = now.toISOString();
  const insert = stmt(
    db,
    `INSERT OR IGNORE INTO host_supply_levels (agent_id, device_id, supply_index, name, kind, level, read_at, reading_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const before = stmt(
    db,
    `SELECT level, read_at FROM host_supply_levels WHERE agent_id = ? AND device_id = ? AND supply_index = ? AND read_at < ?
     ORDER BY read_at DESC LIMIT 1`,
  );
  const after = stmt(
    db,
    `SELECT level, read_at FROM host_supply_levels WHERE agent_id = ? AND device_id = ? AND supply_index = ? AND read_at > ?
     ORDER BY read_at LIMIT 1`,
  );
  const replaced = stmt(
    db,
    `INSERT OR IGNORE INTO host_supply_replacements (agent_id, device_id, supply_index, replaced_at, from_level, to_level, found_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  let stored = 0;
  for (const entry of reading.supplies as ReportedSupply[]) {
    const level = remainingPercent(entry);
    if (level === undefined || typeof entry.index !== 'string') continue;
    const name = (entry.description ?? '').trim() || `supply ${entry.index}`;
    const kind: SupplyKind = classifySupply(entry);
    const key = [agentId, reading.deviceId, entry.index] as const;
    const changes = insert.run(...key, name, kind, level, reading.readAt, reading.readingId).changes;
    if (changes === 0) continue;
    stored++;
    // readings may arrive out of order: check the jump on both sides of the new one
    const prev = before.get(...key, reading.readAt) as { level: number; read_at: string } | undefined;
    if (prev && level - prev.level >= settings.replacementJump) replaced.run(...key, reading.readAt, prev.level, level, foundAt);
    const next = after.get(...key, reading.readAt) as { level: number; read_at: string } | undefined;
    if (next && next.level - level >= settings.replacementJump) replaced.run(...key, next.read_at, level, next.level, foundAt);
  }
  return stored;
}

export interface SupplyRow {
  agentId: string;
  deviceId: string;
  index: string;
  name: string;
  kind: SupplyKind;
  level: number;
  readAt: string;
}

/** The latest level of every supply (one row per agent, device, supply). */
export function latestSupplies(db: Db, agentId?: string): SupplyRow[] {
  // the row holding each supply's newest read_at (valid SQL on SQLite and PostgreSQL);
  // supplies in numeric order of their index ('10' after '9'), as SQLite's `index + 0` sorts
  const numeric = isPostgres(db) ? `COALESCE(substring(l.supply_index from '^[0-9]+(\\.[0-9]+)?')::numeric, 0)` : 'l.supply_index + 0';
  return db
    .prepare(
      `SELECT l.agent_id AS agentId, l.device_id AS deviceId, l.supply_index AS "index", l.name, l.kind, l.level, l.read_at AS readAt
         FROM host_supply_levels l WHERE (? IS NULL OR l.agent_id = ?)
           AND l.read_at = (SELECT max(m.read_at) FROM host_supply_levels m
             WHERE m.agent_id = l.agent_id AND m.device_id = l.device_id AND m.supply_index = l.supply_index)
         ORDER BY l.agent_id, l.device_id, ${numeric}, l.supply_index`,
    )
    .all(agentId ?? null, agentId ?? null) as SupplyRow[];
}

export function supplyHistory(db: Db, s: { agentId: string; deviceId: string; index: string }): { at: number; level: number }[] {
  return (
    stmt(
      db,
      'SELECT read_at, level FROM host_supply_levels WHERE agent_id = ? AND device_id = ? AND supply_index = ? ORDER BY read_at',
    ).all(s.agentId, s.deviceId, s.index) as { read_at: string; level: number }[]
  ).map((r) => ({ at: Date.parse(r.read_at), level: r.level }));
}

/** When the host last found a replacement of this supply (host time, comparable with an event's raised_at). */
export function lastReplacement(db: Db, s: { agentId: string; deviceId: string; index: string }): string | null {
  const row = stmt(
    db,
    'SELECT max(found_at) AS at FROM host_supply_replacements WHERE agent_id = ? AND device_id = ? AND supply_index = ?',
  ).get(s.agentId, s.deviceId, s.index) as { at: string | null };
  return row.at;
}

function openEvent(db: Db, kind: HostEventKind, agentId: string, deviceId: string, subject: string): EventRow | undefined {
  return stmt(db, 'SELECT * FROM host_events WHERE kind = ? AND agent_id = ? AND device_id = ? AND subject = ? AND cleared_at IS NULL').get(
    kind,
    agentId,
    deviceId,
    subject,
  ) as EventRow | undefined;
}

export interface PassResult {
  raised: HostEvent[];
  cleared: HostEvent[];
}

class EventWriter {
  readonly result: PassResult = { raised: [], cleared: [] };
  constructor(
    private readonly db: Db,
    private readonly now: string,
  ) {}

  raise(kind: HostEventKind, agentId: string, deviceId: string, subject: string, severity: string, detail: string): void {
    if (openEvent(this.db, kind, agentId, deviceId, subject)) return;
    const id = this.db
      .prepare('INSERT INTO host_events (kind, agent_id, device_id, subject, severity, detail, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(kind, agentId, deviceId, subject, severity, detail, this.now).lastInsertRowid;
    this.result.raised.push(fromRow(this.db.prepare('SELECT * FROM host_events WHERE id = ?').get(id) as EventRow));
  }

  clear(kind: HostEventKind, agentId: string, deviceId: string, subject: string, reason: string): void {
    const open = openEvent(this.db, kind, agentId, deviceId, subject);
    if (!open) return;
    this.db.prepare('UPDATE host_events SET cleared_at = ?, clear_reason = ? WHERE id = ?').run(this.now, reason, open.id);
    this.result.cleared.push({ ...fromRow(open), clearedAt: this.now, clearReason: reason });
  }
}

const pct = (n: number) => `${Math.round(n)}%`;

/** Raise and clear supply-low, supply-empty, agent-silent and device-silent from what the host holds. */
export function servicePass(db: Db, settings: ServiceSettings, now: Date): PassResult {
  const at = now.toISOString();
  const w = new EventWriter(db, at);
  db.transaction(() => {
    for (const s of latestSupplies(db)) {
      const t = thresholdsFor(settings, s.kind);
      const state = supplyState(s.level, t);
      const what = `${s.name} at ${pct(s.level)} (${s.readAt})`;
      const replacedAt = lastReplacement(db, s);
      const reason = (kind: HostEventKind) => {
        const open = openEvent(db, kind, s.agentId, s.deviceId, s.name);
        return open && replacedAt && replacedAt > open.raised_at
          ? `replaced: ${s.name} at ${pct(s.level)}`
          : `${s.name} at ${pct(s.level)}`;
      };
      if (state === 'empty') {
        w.clear('supply-low', s.agentId, s.deviceId, s.name, `went empty: ${s.name} at ${pct(s.level)}`);
        w.raise('supply-empty', s.agentId, s.deviceId, s.name, 'critical', `${what}, at or below ${t.empty}%`);
      } else if (state === 'low') {
        w.clear('supply-empty', s.agentId, s.deviceId, s.name, reason('supply-empty'));
        w.raise('supply-low', s.agentId, s.deviceId, s.name, 'warning', `${what}, at or below ${t.low}%`);
      } else {
        w.clear('supply-empty', s.agentId, s.deviceId, s.name, reason('supply-empty'));
        w.clear('supply-low', s.agentId, s.deviceId, s.name, reason('supply-low'));
      }
    }
    const silentAgents = new Set<string>();
    for (const a of lastHeard(db)) {
      const since = a.lastHeardAt ?? a.addedAt;
      if (now.getTime() - Date.parse(since) > settings.agentSilentMs) {
        silentAgents.add(a.agentId);
        w.raise(
          'agent-silent',
          a.agentId,
          '',
          '',
          'warning',
          a.lastHeardAt ? `last heard ${a.lastHeardAt}` : `never heard (registered ${a.addedAt})`,
        );
      } else {
        w.clear('agent-silent', a.agentId, '', '', `heard ${a.lastHeardAt}`);
      }
    }
    for (const d of lastAnswered(db)) {
      const answered = d.lastAnsweredAt ? Date.parse(d.lastAnsweredAt) : undefined;
      if (answered !== undefined && now.getTime() - answered <= settings.deviceSilentMs) {
        w.clear('device-silent', d.agentId, d.deviceId, '', `answered ${d.lastAnsweredAt}`);
      } else if (!silentAgents.has(d.agentId) && now.getTime() - Date.parse(d.firstReportedAt) > settings.deviceSilentMs) {
        // a silent agent explains its devices' silence: one event, not one per device
        w.raise(
          'device-silent',
          d.agentId,
          d.deviceId,
          '',
          'warning',
          d.lastAnsweredAt ? `last answered ${d.lastAnsweredAt}` : 'has not answered',
        );
      }
    }
  }).immediate(); // the write lock first: several inbox workers run this pass at once (docs/deployment.md#workers)
  return w.result;
}

export interface HeardRow {
  agentId: string;
  lastHeardAt: string | null;
  lastType: string | null;
  addedAt: string;
}

export function lastHeard(db: Db): HeardRow[] {
  return db
    .prepare(
      `SELECT a.id AS agentId, h.last_heard_at AS lastHeardAt, h.last_type AS lastType, a.added_at AS addedAt
       FROM agents a LEFT JOIN host_heard h ON h.agent_id = a.id ORDER BY a.seq`,
    )
    .all() as HeardRow[];
}

/** Devices agents report watching: last answered is the later of the heartbeat's word and the newest counter reading. */
export function lastAnswered(db: Db): { agentId: string; deviceId: string; lastAnsweredAt: string | null; firstReportedAt: string }[] {
  return db
    .prepare(
      `SELECT s.agent_id AS agentId, s.device_id AS deviceId, s.first_reported_at AS firstReportedAt,
         CASE WHEN COALESCE(s.last_answered_at, '') > COALESCE(c.at, '') THEN COALESCE(s.last_answered_at, '') ELSE COALESCE(c.at, '') END AS lastAnsweredAt
       FROM host_device_seen s JOIN agents a ON a.id = s.agent_id
         LEFT JOIN (SELECT agent_id, device_id, max(read_at) AS at FROM host_counters GROUP BY agent_id, device_id) c
           ON c.agent_id = s.agent_id AND c.device_id = s.device_id
       ORDER BY a.seq, s.device_id`,
    )
    .all()
    .map((r) => {
      const row = r as { agentId: string; deviceId: string; lastAnsweredAt: string; firstReportedAt: string };
      return { ...row, lastAnsweredAt: row.lastAnsweredAt === '' ? null : row.lastAnsweredAt };
    });
}

export function listHostEvents(db: Db, filter: { open?: boolean; agentId?: string; since?: string } = {}): HostEvent[] {
  return (
    db
      .prepare(
        `SELECT * FROM host_events WHERE (? = 0 OR cleared_at IS NULL) AND (? IS NULL OR agent_id = ?)
         AND (? IS NULL OR raised_at >= ? OR cleared_at >= ?) ORDER BY raised_at, id`,
      )
      .all(
        filter.open ? 1 : 0,
        filter.agentId ?? null,
        filter.agentId ?? null,
        filter.since ?? null,
        filter.since ?? null,
        filter.since ?? null,
      ) as EventRow[]
  ).map(fromRow);
}
