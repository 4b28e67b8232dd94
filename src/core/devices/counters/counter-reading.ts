import { COUNTER_READING_FORMAT, type CounterReading } from '../../protocol/counter-report.js';
import { restartedBetween } from '../decoders/decode-host.js';
import type { CounterSnapshot } from '../types.js';
import { listFigures } from './figures.js';

/** The reading's wire type is the counter-report body's (protocol/counter-report.ts). */
export { COUNTER_READING_FORMAT, type CounterReading } from '../../protocol/counter-report.js';

export interface ReadingMeta {
  readingId: string;
  deviceId: string;
  readAt: string;
}

export function buildCounterReading(previous: CounterReading | undefined, snapshot: CounterSnapshot, meta: ReadingMeta): CounterReading {
  const f = snapshot.figures;
  const reading: CounterReading = {
    format: COUNTER_READING_FORMAT,
    ...meta,
    serial: snapshot.identity.serial ?? null,
    model: snapshot.identity.model ?? null,
    total: f.total ?? null,
    mono: f.mono ?? null,
    colour: f.colour ?? null,
    byService: f.byService,
    byPaperSize: f.byPaperSize,
    unit: f.unit ?? null,
    paperSizeUnit: f.paperSizeUnit ?? null,
    sources: f.sources,
    usage: null,
    flags: [],
    supplies: snapshot.supplies,
  };
  if (snapshot.host) {
    // a host has no page counters; it counts its restarts from reading to reading instead
    const hundredths = (s: number | undefined) => (s === undefined ? undefined : s * 100);
    const restarted = restartedBetween(hundredths(previous?.host?.uptimeSeconds), hundredths(snapshot.host.uptimeSeconds));
    reading.host = { ...snapshot.host, restarts: (previous?.host?.restarts ?? 0) + (restarted ? 1 : 0) };
    if (restarted) reading.flags.push('restarted');
  } else if (listFigures(f).length === 0) reading.flags.push('no-counters');
  if (!previous) {
    reading.flags.push('first-reading');
    return reading;
  }
  if (previous.serial && reading.serial && previous.serial !== reading.serial) {
    // another machine behind the same address: its counters say nothing about the old one's
    reading.flags.push('serial-changed');
    return reading;
  }
  const before = new Map(listFigures(previous));
  const deltas = new Map<string, number | null>();
  for (const [path, now] of listFigures(reading)) {
    const then = before.get(path);
    if (then === undefined) continue;
    const change = compareCounter(then, now, reading.sources[path]?.wrapAt);
    if (change.flag) reading.flags.push(`${change.flag}:${path}`);
    deltas.set(path, change.delta);
  }
  reading.usage = {
    since: previous.readAt,
    total: deltas.get('total') ?? null,
    mono: deltas.get('mono') ?? null,
    colour: deltas.get('colour') ?? null,
  };
  return reading;
}

/**
 * How far a counter moved. Down means either a wrap of a fixed-width counter (Counter32
 * past 2^32 − 1 restarts at 0, RFC 2578 §7.1.6) or a reset (controller board swapped,
 * NVRAM cleared). A wrap is assumed only when the counter can wrap and the unwrapped
 * step is less than half its range; anything else is a reset, with no usage at all.
 */
export function compareCounter(then: number, now: number, wrapAt: number | undefined): { delta: number | null; flag?: 'reset' | 'wrap' } {
  if (now >= then) return { delta: now - then };
  if (wrapAt !== undefined) {
    const unwrapped = now + wrapAt - then;
    if (then < wrapAt && unwrapped < wrapAt / 2) return { delta: unwrapped, flag: 'wrap' };
  }
  return { delta: null, flag: 'reset' };
}
