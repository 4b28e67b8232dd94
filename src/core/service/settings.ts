/**
 * The host's `service` config block (docs/service.md): supply thresholds, silence limits and
 * alert routes. Everything has a default, so a host without the block works; a block that is
 * there is checked field by field and a bad one is refused (exit 2) naming the field.
 */
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';

export const SUPPLY_KINDS = ['toner', 'drum', 'waste', 'maintenance', 'other'] as const;
export type SupplyKind = (typeof SUPPLY_KINDS)[number];
export const SEVERITIES = ['critical', 'warning', 'info'] as const;

export interface Thresholds {
  /** remaining % at or below which a supply is low */
  low: number;
  /** remaining % at or below which it is empty */
  empty: number;
}

export interface AlertRoute {
  to: string[];
  severities?: string[];
  kinds?: string[];
}

export interface ServiceSettings {
  thresholds: Record<'default', Thresholds> & Partial<Record<SupplyKind, Thresholds>>;
  /** a level jump up by at least this many points is a replacement */
  replacementJump: number;
  /** the least span of history a forecast is made from */
  minForecastSpanMs: number;
  agentSilentMs: number;
  deviceSilentMs: number;
  alertIntervalMs: number;
  routes: AlertRoute[];
  /** the "From" of alert mail; default: the host's own address */
  alertFrom?: string;
}

export const DEFAULT_THRESHOLDS: Thresholds = { low: 20, empty: 10 };
const ADDRESS_RE = /^[^@\s,<>"]+@[^@\s,<>"]+$/;
const KIND_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function bad(field: string, message: string): never {
  throw new UsageError('CONFIG_INVALID', `config: service${field ? `.${field}` : ''} ${message}`);
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(field, 'must be an object');
  return value as Record<string, unknown>;
}

function known(map: Record<string, unknown>, field: string, keys: readonly string[]): void {
  for (const k of Object.keys(map)) if (!keys.includes(k)) bad(field ? `${field}.${k}` : k, `is not a setting (one of ${keys.join(', ')})`);
}

function percent(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) bad(field, 'must be a number from 0 to 100');
  return value;
}

function duration(value: unknown, field: string, fallback: string): number {
  if (value === undefined) return parseDuration(fallback);
  if (typeof value !== 'string') bad(field, "must be a duration such as '2d'");
  try {
    return parseDuration(value, `config: service.${field}`);
  } catch (error) {
    throw new UsageError('CONFIG_INVALID', (error as Error).message);
  }
}

function strings(value: unknown, field: string, check: (s: string) => boolean, what: string, one: string): string[] {
  if (!Array.isArray(value) || value.length === 0) bad(field, `must be a non-empty list of ${what}`);
  return value.map((v, i) => {
    if (typeof v !== 'string' || !check(v)) bad(`${field}[${i}]`, `must be ${one}`);
    return v;
  });
}

function thresholds(value: unknown, field: string, base: Thresholds): Thresholds {
  const t = object(value, field);
  known(t, field, ['low', 'empty']);
  const low = t.low === undefined ? base.low : percent(t.low, `${field}.low`);
  const empty = t.empty === undefined ? base.empty : percent(t.empty, `${field}.empty`);
  if (empty > low) bad(field, `has empty ${empty} above low ${low}`);
  return { low, empty };
}

export function serviceSettings(config: { service?: unknown }): ServiceSettings {
  const root = config.service === undefined ? {} : object(config.service, '');
  known(root, '', ['supplies', 'silence', 'alerts']);
  const supplies = root.supplies === undefined ? {} : object(root.supplies, 'supplies');
  known(supplies, 'supplies', ['thresholds', 'replacementJump', 'minForecastSpan']);
  const given = supplies.thresholds === undefined ? {} : object(supplies.thresholds, 'supplies.thresholds');
  known(given, 'supplies.thresholds', ['default', ...SUPPLY_KINDS]);
  const def =
    given.default === undefined ? DEFAULT_THRESHOLDS : thresholds(given.default, 'supplies.thresholds.default', DEFAULT_THRESHOLDS);
  const byKind: ServiceSettings['thresholds'] = { default: def };
  for (const kind of SUPPLY_KINDS) {
    if (given[kind] !== undefined) byKind[kind] = thresholds(given[kind], `supplies.thresholds.${kind}`, def);
  }
  const jump = supplies.replacementJump === undefined ? 25 : percent(supplies.replacementJump, 'supplies.replacementJump');
  if (jump < 1) bad('supplies.replacementJump', 'must be at least 1');
  const silence = root.silence === undefined ? {} : object(root.silence, 'silence');
  known(silence, 'silence', ['agent', 'device']);
  const alerts = root.alerts === undefined ? {} : object(root.alerts, 'alerts');
  known(alerts, 'alerts', ['routes', 'interval', 'from']);
  const routes = (
    alerts.routes === undefined ? [] : Array.isArray(alerts.routes) ? alerts.routes : bad('alerts.routes', 'must be a list')
  ).map((r: unknown, i: number): AlertRoute => {
    const field = `alerts.routes[${i}]`;
    const route = object(r, field);
    known(route, field, ['to', 'severities', 'kinds']);
    return {
      to: strings(route.to, `${field}.to`, (a) => ADDRESS_RE.test(a) && a.length <= 254, 'mail addresses', 'a mail address'),
      ...(route.severities === undefined
        ? {}
        : {
            severities: strings(
              route.severities,
              `${field}.severities`,
              (v) => (SEVERITIES as readonly string[]).includes(v),
              'severities',
              'a severity: critical, warning or info',
            ),
          }),
      ...(route.kinds === undefined
        ? {}
        : {
            kinds: strings(route.kinds, `${field}.kinds`, (v) => KIND_RE.test(v), 'event kinds', 'an event kind such as supply-low or jam'),
          }),
    };
  });
  if (alerts.from !== undefined && (typeof alerts.from !== 'string' || !ADDRESS_RE.test(alerts.from)))
    bad('alerts.from', 'must be a mail address');
  return {
    thresholds: byKind,
    replacementJump: jump,
    minForecastSpanMs: duration(supplies.minForecastSpan, 'supplies.minForecastSpan', '3d'),
    agentSilentMs: duration(silence.agent, 'silence.agent', '2d'),
    deviceSilentMs: duration(silence.device, 'silence.device', '2d'),
    alertIntervalMs: duration(alerts.interval, 'alerts.interval', '1h'),
    routes,
    ...(typeof alerts.from === 'string' ? { alertFrom: alerts.from } : {}),
  };
}

export function thresholdsFor(settings: ServiceSettings, kind: SupplyKind): Thresholds {
  return settings.thresholds[kind] ?? settings.thresholds.default;
}

/** Does an event of this kind and severity go down this route? */
export function routeMatches(route: AlertRoute, event: { kind: string; severity: string }): boolean {
  return (!route.severities || route.severities.includes(event.severity)) && (!route.kinds || route.kinds.includes(event.kind));
}
