import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RdsError } from '../errors.js';
import type { DeviceHistory } from '../service/meter-export.js';
import { escapeHtml } from '../text/html.js';
import { buildReport } from './build.js';
import type { ReportData } from './data.js';
import { countStates } from './rollout.js';
import { dailyPoints, monthlyUsage, monthsBetween } from './usage.js';
import { checkReportFile, REPORT_MODE, writeReport } from './write.js';

const DAY = 86_400_000;
const NOW = new Date('2026-12-07T12:00:00Z');
const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '</style><b>x</b>',
  "'; x='",
  'a\x1b[2Jb\r',
  'abc\u202eexe.txt',
  '&amp;',
];

/** A report whose every outside string is `s`: note, address, versions, device, fault and supply texts. */
function dataWith(s: string): ReportData {
  const forecast = { status: 'not-enough-history' as const, readings: 1, spanDays: 0 };
  return {
    hostId: s,
    generatedAt: NOW.toISOString(),
    since: null,
    silentAfterMs: 2 * DAY,
    fleet: {
      target: s,
      rolloutId: s,
      failed: 1,
      rows: [
        {
          agentId: s,
          address: s,
          version: s,
          checkedAt: s,
          note: s,
          failed: true,
          reason: 'rolled-back',
          detail: s,
          logTail: `${s}\n${s}`,
        },
        {
          agentId: 'A2',
          address: 'a2@x.example',
          version: '1.0',
          checkedAt: null,
          note: '',
          failed: false,
          reason: null,
          detail: null,
          logTail: null,
        },
      ],
    },
    rollout: {
      current: {
        id: s,
        packageId: s,
        targetVersion: s,
        createdAt: s,
        state: s,
        haltReason: s,
        agents: 2,
        counts: [{ state: s, count: 2 }],
        waves: [{ name: s, counts: [] }],
      },
      history: [{ id: s, packageId: s, targetVersion: s, createdAt: s, state: s, agents: 2, sent: 2, installed: 1, failed: 1, pending: 0 }],
    },
    silent: [{ agentId: s, address: s, note: s, lastHeardAt: null, addedAt: s, silentMs: 3 * DAY }],
    faults: [{ source: 'agent', severity: 'critical', kind: s, agentId: s, deviceId: s, subject: s, detail: s, at: s, ageMs: DAY }],
    supplies: [{ agentId: s, deviceId: s, name: s, kind: 'toner', level: 5, state: 'empty', readAt: s, forecast }],
    devices: [
      {
        agentId: s,
        deviceId: s,
        serial: s,
        points: [{ at: NOW.getTime(), total: 10, mono: 5, colour: 5 }],
        months: [{ month: '2026-12', pages: 3, mono: 2, colour: 1, status: 'read' }],
      },
    ],
  };
}

const fakeChart = async () => '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"></path></svg>';
/** the sequence of tags of a page: what an injected element would change */
const skeleton = (html: string) => [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[0]);
const fromEntities = (html: string) =>
  html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

describe('escapeHtml: outside text into a page', () => {
  it('turns markup into text and controls into visible escapes', () => {
    expect(escapeHtml('<script>alert(1)</script>')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(escapeHtml('"><img onerror=x>')).toBe('&quot;&gt;&lt;img onerror=x&gt;');
    expect(escapeHtml("it's &amp;")).toBe('it&#39;s &amp;amp;');
    expect(escapeHtml('abc\u202eexe\x1b[1m')).toBe('abc\\u202eexe\\x1b[1m');
    expect(escapeHtml('Café トナー 🖨️')).toBe('Café トナー 🖨️');
  });

  it('property: no markup character survives, and unescaping gives the terminal-safe text back', () => {
    let withMarkup = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 120 }),
          fc.constantFrom(...HOSTILE),
          fc.stringMatching(/^[<>"'&a-z\u202e\x1b ]{0,40}$/),
        ),
        (s) => {
          const out = escapeHtml(s);
          if (/[<>"'&]/.test(s)) withMarkup++;
          expect(/[<>"']/.test(out)).toBe(false);
          expect(/&(?!(amp|lt|gt|quot|#39);)/.test(out)).toBe(false);
          expect(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(out)).toBe(false);
          expect(fromEntities(out)).toBe(
            s.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => escapeHtml(ch)),
          );
        },
      ),
      { numRuns: 1000 },
    );
    expect(withMarkup).toBeGreaterThan(200);
  }, 60_000); // CPU-bound property: no 5 s default under load
});

describe('buildReport: the page', () => {
  it('property: outside text in every field changes no element of the page, and shows as text', async () => {
    const plain = skeleton(await buildReport(dataWith('x'), fakeChart));
    let hostile = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 60 })), async (s) => {
        const html = await buildReport(dataWith(s), fakeChart);
        if (/[<>"'&]/.test(s)) hostile++;
        expect(skeleton(html)).toEqual(plain);
        const body = html.slice(html.indexOf('<body>'));
        expect(fromEntities(body)).toContain(
          s.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => escapeHtml(ch)),
        );
      }),
      { numRuns: 150 },
    );
    expect(hostile).toBeGreaterThan(20);
  });

  it('the fleet table: update to, one ✗ per failed agent with its reason, the summary line', async () => {
    const html = await buildReport(dataWith('v1'), fakeChart);
    expect(html).toContain('update to: v1 (rollout v1)');
    expect(html.match(/<td class="fail">✗ rolled-back: v1 \/ log: v1<\/td>/g)).toHaveLength(1);
    expect(html).toContain('<p class="summary">1 of 2 agents failed</p>');
    for (const h of ['Agent ID', 'Mail address', 'Version', 'Last version check', 'Note', 'Failed'])
      expect(html).toContain(`<th scope="col">${h}</th>`);
  });

  it('has no way to reach the network: no src, href or url() to anywhere, a CSP that allows no request', async () => {
    const html = await buildReport(dataWith('x'));
    expect(html).not.toMatch(/\s(src|href)=/i);
    expect(html).not.toMatch(/url\((?!#)/);
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<link|@import|<iframe|<object|<embed/i);
  });

  it('draws one ECharts SVG chart per device, with the fixed series names only', async () => {
    const d = dataWith('<b>dev</b>');
    d.devices.push({ ...(d.devices[0] as ReportData['devices'][number]), deviceId: 'second' });
    const html = await buildReport(d);
    const svgs = html.match(/<svg [^>]*>/g) ?? [];
    expect(svgs).toHaveLength(2);
    expect(html).toMatch(/<figure class="chart"><svg width="760" height="260"/);
    const charts = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    for (const svg of charts) {
      expect(svg).toContain('>total<');
      expect(svg).not.toContain('dev');
    }
  });
});

describe('the data behind the sections', () => {
  it('countStates: per state, in the order of a rollout (pending, sent, deferred, installed, failed, timed-out, skipped)', () => {
    expect(countStates(['timed-out', 'installed', 'failed (rolled-back)', 'installed', 'sent', 'pending'])).toEqual([
      { state: 'pending', count: 1 },
      { state: 'sent', count: 1 },
      { state: 'installed', count: 2 },
      { state: 'failed (rolled-back)', count: 1 },
      { state: 'timed-out', count: 1 },
    ]);
  });

  const history = (points: [string, number][]): DeviceHistory => ({
    agentId: 'A',
    deviceId: 'd',
    serial: null,
    readings: points.map(([t, total]) => ({ at: Date.parse(t), total, mono: total, colour: null, readAt: t })),
  });

  it('dailyPoints keeps the last reading of each UTC day', () => {
    const h = history([
      ['2026-11-01T08:00:00Z', 10],
      ['2026-11-01T20:00:00Z', 15],
      ['2026-11-02T08:00:00Z', 20],
    ]);
    expect(dailyPoints(h, 0).map((p) => p.total)).toEqual([15, 20]);
    expect(dailyPoints(h, Date.parse('2026-11-02T00:00:00Z')).map((p) => p.total)).toEqual([20]);
  });

  it('monthsBetween: calendar months up to now, the last twelve', () => {
    expect(monthsBetween(Date.parse('2026-10-15T00:00:00Z'), NOW).map((m) => m.label)).toEqual(['2026-10', '2026-11', '2026-12']);
    const long = monthsBetween(Date.parse('2024-01-01T00:00:00Z'), NOW);
    expect(long).toHaveLength(12);
    expect(long[0]?.label).toBe('2026-01');
    expect(long[0]?.start.toISOString()).toBe('2025-12-31T23:59:59.999Z');
  });

  it('monthlyUsage: pages per month from the cycle computation, the month under way to date', () => {
    const h = history([
      ['2026-10-31T20:00:00Z', 1000],
      ['2026-11-15T12:00:00Z', 1500],
      ['2026-11-30T20:00:00Z', 2000],
      ['2026-12-06T12:00:00Z', 2300],
    ]);
    const months = monthlyUsage(h, 0, NOW);
    expect(months.map((m) => [m.month, m.pages, m.status])).toEqual([
      ['2026-10', null, 'missing'],
      ['2026-11', 1000, 'read'],
      ['2026-12 (to date)', 300, 'read'],
    ]);
    expect(months[1]?.mono).toBe(1000);
    expect(months[1]?.colour).toBe(null);
  });
});

describe('the report file', () => {
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'rds-report-unit-'));
  const refusal = (f: () => void) => {
    try {
      f();
    } catch (error) {
      return error instanceof RdsError ? `${error.code} ${error.exitCode}` : String(error);
    }
    return 'no error';
  };

  it('is written 0600 and a regular file of that name is replaced', () => {
    const file = path.join(dir(), 'r.html');
    fs.writeFileSync(file, 'old', { mode: 0o644 });
    writeReport(file, '<!DOCTYPE html>');
    expect(fs.readFileSync(file, 'utf8')).toBe('<!DOCTYPE html>');
    expect(fs.statSync(file).mode & 0o777).toBe(REPORT_MODE);
  });

  it('refuses a symlink, a folder and a missing folder (exit 2) and leaves them alone', () => {
    const d = dir();
    const target = path.join(d, 'target.txt');
    fs.writeFileSync(target, 'keep');
    fs.symlinkSync(target, path.join(d, 'link.html'));
    expect(refusal(() => writeReport(path.join(d, 'link.html'), 'x'))).toBe('BAD_OUTPUT 2');
    expect(fs.readFileSync(target, 'utf8')).toBe('keep');
    expect(fs.lstatSync(path.join(d, 'link.html')).isSymbolicLink()).toBe(true);
    fs.mkdirSync(path.join(d, 'sub.html'));
    expect(refusal(() => checkReportFile(path.join(d, 'sub.html')))).toBe('BAD_OUTPUT 2');
    expect(refusal(() => checkReportFile(path.join(d, 'no', 'r.html')))).toBe('BAD_OUTPUT 2');
  });
});
