/**
 * What the fleet report shows, gathered from the host store by the functions the commands
 * use already: the verify table (host/verify.ts), the rollout section (rollout.ts, the one
 * adapter), silence (last heard), open faults (host_faults) and host events, supplies
 * at or below low (service/supplies.ts) and page counts (service/meter-export.ts).
 */
import { listAgents } from '../host/registry.js';
import { findRollout } from '../host/rollout-store.js';
import { type VerifyRow, verifyFleet } from '../host/verify.js';
import { lastHeard, latestSupplies, listHostEvents, supplyHistory } from '../service/host-events.js';
import { SEVERITIES, type ServiceSettings, thresholdsFor } from '../service/settings.js';
import { type Forecast, forecastEmpty, supplyState } from '../service/supplies.js';
import type { Db } from '../store/db.js';
import { type RolloutSection, rolloutSection } from './rollout.js';
import { type DeviceUsage, deviceUsage } from './usage.js';

export interface ReportOptions {
  rolloutId?: string;
  /** ISO time: the rollout history and the page counts start here */
  since?: string;
  silentAfterMs: number;
  now: Date;
}

export interface FleetSection {
  /** the version the rollout targets ("update to"); null before any rollout */
  target: string | null;
  rolloutId: string | null;
  rows: VerifyRow[];
  failed: number;
}

export interface SilentAgent {
  agentId: string;
  address: string;
  note: string;
  lastHeardAt: string | null;
  addedAt: string;
  silentMs: number;
}

export interface OpenFault {
  source: 'agent' | 'host';
  severity: string;
  kind: string;
  agentId: string;
  deviceId: string;
  subject: string;
  detail: string;
  at: string;
  ageMs: number;
}

export interface LowSupply {
  agentId: string;
  deviceId: string;
  name: string;
  kind: string;
  level: number;
  state: 'low' | 'empty';
  readAt: string;
  forecast: Forecast;
}

export interface ReportData {
  hostId: string;
  generatedAt: string;
  since: string | null;
  silentAfterMs: number;
  fleet: FleetSection;
  rollout: RolloutSection;
  silent: SilentAgent[];
  faults: OpenFault[];
  supplies: LowSupply[];
  devices: DeviceUsage[];
}

/** The verify table of the rollout (verify's own computation); before any rollout, the registry with nothing failed. */
export function fleetSection(db: Db, rolloutId?: string): FleetSection {
  if (!rolloutId && !findRollout(db)) {
    const rows = listAgents(db).map(
      (a): VerifyRow => ({
        agentId: a.id,
        address: a.address,
        version: a.version,
        checkedAt: a.checkedAt,
        note: a.note,
        failed: false,
        reason: null,
        detail: null,
        logTail: null,
      }),
    );
    return { target: null, rolloutId: null, rows, failed: 0 };
  }
  const report = verifyFleet(db, rolloutId ? { rolloutId } : {});
  return { target: report.target, rolloutId: report.rolloutId, rows: report.agents, failed: report.failed };
}

/** Agents heard from longer ago than `afterMs` (never heard: since they were registered), the longest silent first. */
export function silentAgents(db: Db, afterMs: number, now: Date): SilentAgent[] {
  const agents = new Map(listAgents(db).map((a) => [a.id, a]));
  return lastHeard(db)
    .map((h) => ({
      agentId: h.agentId,
      address: agents.get(h.agentId)?.address ?? '',
      note: agents.get(h.agentId)?.note ?? '',
      lastHeardAt: h.lastHeardAt,
      addedAt: h.addedAt,
      silentMs: now.getTime() - Date.parse(h.lastHeardAt ?? h.addedAt),
    }))
    .filter((a) => a.silentMs > afterMs)
    .sort((a, b) => b.silentMs - a.silentMs);
}

const severityRank = (s: string) => {
  const i = (SEVERITIES as readonly string[]).indexOf(s);
  return i < 0 ? SEVERITIES.length : i;
};

/** Open agent faults and host events, by severity (critical first), then the oldest first; age from when it was raised. */
export function openFaults(db: Db, now: Date): OpenFault[] {
  const fromAgents = db
    .prepare(
      `SELECT agent_id, device_id, code, subunit, severity, raised_at, received_at FROM host_faults
       WHERE cleared_at IS NULL ORDER BY raised_at, agent_id`,
    )
    .all() as {
    agent_id: string;
    device_id: string;
    code: string;
    subunit: string;
    severity: string;
    raised_at: string;
    received_at: string;
  }[];
  const faults = [
    ...fromAgents.map((f) => ({
      source: 'agent' as const,
      severity: f.severity,
      kind: f.code,
      agentId: f.agent_id,
      deviceId: f.device_id,
      subject: f.subunit,
      detail: `received ${f.received_at}`,
      at: f.raised_at,
    })),
    ...listHostEvents(db, { open: true }).map((e) => ({
      source: 'host' as const,
      severity: e.severity,
      kind: e.kind,
      agentId: e.agentId,
      deviceId: e.deviceId,
      subject: e.subject,
      detail: e.detail,
      at: e.raisedAt,
    })),
  ];
  return faults
    .map((f) => ({ ...f, ageMs: Math.max(0, now.getTime() - Date.parse(f.at)) }))
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || b.ageMs - a.ageMs);
}

/** Supplies whose latest level is at or below their low threshold, with the run-out forecast. */
export function lowSupplies(db: Db, settings: ServiceSettings, now: Date): LowSupply[] {
  const rows: LowSupply[] = [];
  for (const s of latestSupplies(db)) {
    const state = supplyState(s.level, thresholdsFor(settings, s.kind));
    if (state === 'ok') continue;
    const forecast = forecastEmpty(supplyHistory(db, s), {
      jump: settings.replacementJump,
      minSpanMs: settings.minForecastSpanMs,
      now: now.getTime(),
    });
    rows.push({ ...s, level: Math.round(s.level * 10) / 10, state, forecast });
  }
  return rows.sort((a, b) => a.level - b.level);
}

export function gatherReport(db: Db, hostId: string, settings: ServiceSettings, options: ReportOptions): ReportData {
  const since = options.since ?? null;
  return {
    hostId,
    generatedAt: options.now.toISOString(),
    since,
    silentAfterMs: options.silentAfterMs,
    fleet: fleetSection(db, options.rolloutId),
    rollout: rolloutSection(db, { ...(options.rolloutId ? { rolloutId: options.rolloutId } : {}), ...(since ? { since } : {}) }),
    silent: silentAgents(db, options.silentAfterMs, options.now),
    faults: openFaults(db, options.now),
    supplies: lowSupplies(db, settings, options.now),
    devices: deviceUsage(db, since, options.now),
  };
}
