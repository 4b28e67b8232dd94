// The service business (issue 17) with the real binary on the embedded mail backend: a
// Sharp MX-3570N's toner going low over weeks of readings (levels from the real walk), the
// forecast and `supplies list --due`, a replacement clearing the event, agents going silent
// and speaking again (heartbeat), meter reads by billing date (read, estimated, reset,
// missing; the monthly cycle), and alert mail batched to the service desk.
//
// The host judges silence and batches alerts by its clock. Instead of waiting days, the
// test moves the stored times back (last heard, last alert sent) in the host's SQLite store,
// as if the clock had moved on; everything else is the real binary's own doing.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mailboxDir } from '../../src/core/mail/maildir-layout.js';
import { levelHistory, sharpSupplies } from '../../src/core/service/testing.js';
import { deliverCounterReport, deliverFromAgent, type HistoryReading } from '../support/agent-reports.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const DESK = 'desk@service.example';
let root: string;
let host: HostNode;
let a1: AgentNode; // the Sharp with the toner going low
let a2: AgentNode; // goes silent
let a3: AgentNode; // goes silent too; holds the estimated and the swapped device
const now = Date.now();
const iso = (t: number) => new Date(t).toISOString();

const run = (node: { config: string }, code: number, ...args: string[]) =>
  rdsExpect(code, ['--config', node.config, ...args], { cwd: root });
const json = async (node: { config: string }, ...args: string[]) => JSON.parse((await run(node, 0, '--json', ...args)).stdout);

function hostDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(path.join(host.dir, 'state', 'state.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function mailsTo(address: string): string[] {
  return mailsIn(address, '');
}

function mailsIn(address: string, folder: string): string[] {
  const box = path.join(mailboxDir(path.join(root, 'mail'), address), folder);
  return ['new', 'cur'].flatMap((sub) => {
    const dir = path.join(box, sub);
    return fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .sort()
          .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      : [];
  });
}

/** 40 days of readings twice a day from the Sharp: every supply from its walk level, Magenta Toner ending at its 19 %. */
function sharpHistory(): HistoryReading[] {
  const supplies = sharpSupplies();
  const days = 40;
  const start = now - days * DAY;
  const curves = supplies.map((s, i) => {
    if (typeof s.percent !== 'number') return undefined;
    const perDay = s.description === 'Magenta Toner' ? 1.5 : s.description?.includes('Toner') ? 0.6 : 0.1;
    const level = s.class === 'receptacle' ? 100 - s.percent : s.percent;
    return levelHistory({
      start,
      startLevel: Math.min(100, level + perDay * days),
      perDay,
      days,
      perDayReadings: 2,
      noise: 1,
      bounce: 0.05,
      seed: 17 + i,
    });
  });
  const n = days * 2 + 1;
  return Array.from({ length: n }, (_, k) => ({
    deviceId: 'mfp-sharp',
    readAt: iso(start + k * 12 * HOUR),
    total: 120_000 + k * 300,
    mono: 80_000 + k * 200,
    colour: 40_000 + k * 100,
    supplies: supplies.map((s, i) => {
      const curve = curves[i];
      if (!curve) return s;
      let level = (curve[k] as { level: number }).level;
      if (k === n - 1) level = s.class === 'receptacle' ? 100 - (s.percent as number) : (s.percent as number); // the walk's own value
      return { ...s, percent: s.class === 'receptacle' ? 100 - level : level };
    }),
  }));
}

beforeAll(() => ensureBuilt());

/**
 * Every test starts from its own world (order does not matter, --sequence.shuffle): a host
 * with the service block, and the agents the test needs (AGENT0000002 watching a device
 * that does not answer, mfp-quiet), then the steps of the story it builds on (below).
 */
async function world(...agents: (1 | 2 | 3)[]): Promise<void> {
  root = tempDir('rds-service-');
  host = await initHost(root);
  const config = JSON.parse(fs.readFileSync(host.config, 'utf8'));
  config.service = {
    alerts: { interval: '1h', routes: [{ to: [DESK] }, { to: ['critical@service.example'], severities: ['critical'] }] },
    silence: { agent: '2d', device: '2d' },
  };
  fs.writeFileSync(host.config, JSON.stringify(config, null, 2), { mode: 0o600 });
  if (agents.includes(1)) a1 = await initAgent(root, host, { id: 'AGENT0000001' });
  if (agents.includes(2)) a2 = await initAgent(root, host, { id: 'AGENT0000002' });
  if (agents.includes(3)) a3 = await initAgent(root, host, { id: 'AGENT0000003' });
  if (agents.includes(2)) {
    const sim = path.join(root, 'quiet.json');
    fs.writeFileSync(
      sim,
      JSON.stringify({ format: 'rds-simulated-devices/1', devices: { 'mfp-quiet': { model: 'Sim', serial: 'Q-1', reachable: false } } }),
    );
    await run(a2, 0, 'devices', 'add', '--id', 'mfp-quiet', '--driver', 'simulated', '--file', sim);
  }
}

afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

// ---- steps of the story, each test runs the ones it builds on ----------------------------

const magentaOf = (r: HistoryReading) =>
  (r.supplies as { description: string; percent: number }[]).find((s) => s.description === 'Magenta Toner')?.percent as number;

/** The Sharp's 40 days of readings, in two reports: above 20 %, then down to 19 % (supply-low, one mail to the desk). */
async function tonerGoesLow(): Promise<void> {
  const history = sharpHistory();
  const firstLow = history.findIndex((r) => magentaOf(r) <= 20);
  await deliverCounterReport(root, a1, history.slice(0, firstLow));
  await run(host, 0, 'inbox');
  await deliverCounterReport(root, a1, history.slice(firstLow));
  await run(host, 0, 'inbox');
}

/** AGENT0000002 and AGENT0000003 send a heartbeat; the host takes them in. */
async function heartbeats(): Promise<void> {
  await run(a2, 0, 'heartbeat');
  await run(a3, 0, 'heartbeat');
  await run(host, 0, 'inbox');
}

/** Both were last heard three days ago (the stored time moved back), as if the host's clock had moved on. */
function threeDaysQuiet(): string {
  const threeDaysAgo = iso(now - 3 * DAY);
  hostDb((db) => db.prepare('UPDATE host_heard SET last_heard_at = ? WHERE agent_id IN (?, ?)').run(threeDaysAgo, a2.id, a3.id));
  return threeDaysAgo;
}

/** heartbeats, three days of quiet, and a host pass that raises agent-silent for both. */
async function bothSilent(): Promise<void> {
  await heartbeats();
  threeDaysQuiet();
  await run(host, 0, 'inbox');
}

describe('supplies: a toner goes low, is forecast, is shipped, is replaced', () => {
  it('weeks of readings above 20 %: no event; the last ones at the walk’s 19 %: supply-low, and the desk gets one mail', async () => {
    await world(1);
    const history = sharpHistory();
    const firstLow = history.findIndex((r) => magentaOf(r) <= 20);
    expect(firstLow).toBeGreaterThan(40);
    await deliverCounterReport(root, a1, history.slice(0, firstLow));
    const first = await run(host, 0, 'inbox');
    expect(first.stdout).toContain('1 counter-report');
    expect(first.stdout).not.toContain('supply-low');
    expect(mailsTo(DESK)).toHaveLength(0);

    await deliverCounterReport(root, a1, history.slice(firstLow));
    const second = await run(host, 0, 'inbox');
    expect(second.stdout).toContain('raised supply-low on AGENT0000001/mfp-sharp (Magenta Toner)');
    expect(second.stdout).toContain(`alert mail to ${DESK}: 1 event(s)`);
    const desk = mailsTo(DESK);
    expect(desk).toHaveLength(1);
    const mail = await simpleParser(desk[0] as string);
    expect(mail.subject).toBe('[rds] 1 event: supply-low on AGENT0000001/mfp-sharp');
    expect(mail.from?.text).toBe('host@example.com');
    expect(mail.attachments).toEqual([]);
    expect(mail.html).toBe(false);
    expect(mail.text).toContain('WARNING  supply-low  AGENT0000001 / mfp-sharp  (Magenta Toner)');
    expect(mail.text).toMatch(/at \S+: Magenta Toner at 19% \(\S+\), at or below 20%/);
    expect(mailsTo('critical@service.example')).toHaveLength(0); // a warning: not on the critical route

    const faults = (await json(host, 'faults', 'list', '--open')).faults;
    expect(faults).toEqual([
      expect.objectContaining({
        source: 'host',
        agentId: a1.id,
        deviceId: 'mfp-sharp',
        code: 'supply-low',
        subunit: 'Magenta Toner',
        acked: null,
      }),
    ]);
    const table = (await run(host, 0, 'faults', 'list', '--open')).stdout;
    expect(table).toMatch(/^AGENT0000001\s+mfp-sharp\s+supply-low\s+Magenta Toner\s+warning\s+host\s.*\s-$/m);
  });

  it('supplies list: latest level, when read, and the forecast date; --due 14d lists only what runs out in time', async () => {
    await world(1);
    await tonerGoesLow();
    const { supplies } = await json(host, 'supplies', 'list');
    const magenta = supplies.find((s: { name: string }) => s.name === 'Magenta Toner');
    expect(magenta).toMatchObject({ agentId: a1.id, deviceId: 'mfp-sharp', kind: 'toner', level: 19, state: 'low', readAt: iso(now) });
    expect(magenta.forecast.status).toBe('forecast');
    // 19 % at 1.5 points a day: about 12.7 days left
    expect(magenta.forecast.days).toBeGreaterThan(10);
    expect(magenta.forecast.days).toBeLessThan(15.5);
    expect(supplies.find((s: { name: string }) => s.name === 'Waste Toner')).toBeUndefined(); // level unknown in the walk
    expect(supplies.find((s: { name: string }) => s.name === 'Black Photoconductive Drum')).toMatchObject({ kind: 'drum', level: 95 });

    const due = (await json(host, 'supplies', 'list', '--due', '14d')).supplies.map((s: { name: string }) => s.name);
    expect(due).toContain('Magenta Toner');
    expect(due).not.toContain('Cyan Toner');
    const human = (await run(host, 0, 'supplies', 'list', '--due', '14d')).stdout;
    expect(human).toMatch(/^Agent\s+Device\s+Supply\s+Kind\s+Level %\s+State\s+Read at \(UTC\)\s+Forecast empty$/m);
    expect(human).toMatch(
      new RegExp(`Magenta Toner\\s+toner\\s+19\\s+low\\s+\\S+ \\S+\\s+${magenta.forecast.emptyAt.slice(0, 10)} \\(\\d+(\\.\\d)? d\\)`),
    );
  });

  it('a new cartridge (a jump up) clears supply-low as replaced; its forecast needs history again', async () => {
    await world(1);
    await tonerGoesLow();
    const supplies = sharpSupplies().map((s) => (s.description === 'Magenta Toner' ? { ...s, percent: 100 } : s));
    await deliverCounterReport(root, a1, [{ deviceId: 'mfp-sharp', readAt: iso(now + 1000), total: 150_000, supplies }]);
    const r = await run(host, 0, 'inbox');
    expect(r.stdout).toContain('cleared supply-low on AGENT0000001/mfp-sharp (Magenta Toner)');
    const faults = (await json(host, 'faults', 'list')).faults.filter((f: { code: string }) => f.code === 'supply-low');
    expect(faults).toEqual([expect.objectContaining({ clearReason: 'replaced: Magenta Toner at 100%' })]);
    expect(faults[0].clearedAt).not.toBeNull();
    const magenta = (await json(host, 'supplies', 'list')).supplies.find((s: { name: string }) => s.name === 'Magenta Toner');
    expect(magenta).toMatchObject({ level: 100, state: 'ok', forecast: { status: 'not-enough-history' } });
    expect(hostDb((db) => db.prepare('SELECT count(*) AS n FROM host_supply_replacements').get())).toEqual({ n: 1 });
  });

  it('bad --due: exit 2, one line naming it', async () => {
    await world();
    const r = await rds(['--config', host.config, 'supplies', 'list', '--due', 'soon'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^rds: --due: 'soon' is not a duration/)]);
  });
});

describe('silence', () => {
  it('a heartbeat is a signed message the host takes in; it names the devices and counts as heard', async () => {
    await world(2, 3);
    expect((await run(a2, 0, 'heartbeat')).stdout).toContain('heartbeat sent to the host (1 device(s))');
    expect((await run(a3, 0, 'heartbeat')).stdout).toContain('heartbeat sent to the host (0 device(s))');
    expect((await run(host, 0, 'inbox')).stdout).toContain('2 heartbeat');
    const heard = hostDb((db) => db.prepare('SELECT agent_id, last_type FROM host_heard ORDER BY agent_id').all());
    expect(heard).toEqual([
      { agent_id: a2.id, last_type: 'heartbeat' },
      { agent_id: a3.id, last_type: 'heartbeat' },
    ]);
    expect(hostDb((db) => db.prepare('SELECT device_id, last_answered_at FROM host_device_seen').all())).toEqual([
      { device_id: 'mfp-quiet', last_answered_at: null },
    ]);
    expect((await run(host, 0, 'agents', 'list', '--silent', '2d')).stdout.trim()).toBe('no agent silent for more than 2d');
  });

  it('three days without a word: agents list --silent names them with Last heard; faults list shows agent-silent', async () => {
    await world(2, 3);
    await heartbeats();
    const threeDaysAgo = threeDaysQuiet();
    const listed = await json(host, 'agents', 'list', '--silent', '2d');
    expect(listed.agents.map((a: { id: string; lastHeardAt: string }) => [a.id, a.lastHeardAt])).toEqual([
      [a2.id, threeDaysAgo],
      [a3.id, threeDaysAgo],
    ]);
    const human = (await run(host, 0, 'agents', 'list', '--silent', '2d')).stdout;
    expect(human).toMatch(/^Agent ID\s+Mail address\s+Version\s+Last heard \(UTC\)\s+Note$/m);
    expect(human).toContain(threeDaysAgo.slice(0, 16).replace('T', ' '));
    const open = (await json(host, 'faults', 'list', '--open')).faults.map((f: { code: string; agentId: string; source: string }) => [
      f.code,
      f.agentId,
      f.source,
    ]);
    expect(open).toEqual([
      ['agent-silent', a2.id, 'host'],
      ['agent-silent', a3.id, 'host'],
    ]);
  });

  it('alert mail is batched: inside the interval nothing more goes out; after it, one mail holds both events', async () => {
    await world(1, 2, 3);
    await tonerGoesLow(); // the desk's first alert mail: the interval starts
    await heartbeats();
    threeDaysQuiet();
    const held = await run(host, 0, 'inbox');
    expect(held.stdout).not.toContain('alert mail');
    expect(mailsTo(DESK)).toHaveLength(1);
    hostDb((db) => db.prepare('UPDATE alert_recipients SET last_sent_at = ?').run(iso(now - 2 * HOUR)));
    const sent = await run(host, 0, 'inbox');
    expect(sent.stdout).toContain(`alert mail to ${DESK}: 2 event(s)`);
    const desk = mailsTo(DESK);
    expect(desk).toHaveLength(2);
    const batch = await simpleParser(desk[1] as string);
    expect(batch.subject).toBe('[rds] 2 events: agent-silent on AGENT0000002 (+1)');
    expect(batch.text).toContain('WARNING  agent-silent  AGENT0000002');
    expect(batch.text).toContain('WARNING  agent-silent  AGENT0000003');
    expect((await run(host, 0, 'inbox')).stdout).not.toContain('alert mail'); // nothing new, nothing sent
  });

  it('speaking again clears it: a heartbeat from AGENT0000002', async () => {
    await world(2, 3);
    await bothSilent();
    await run(a2, 0, 'heartbeat');
    expect((await run(host, 0, 'inbox')).stdout).toContain('cleared agent-silent on AGENT0000002');
    const open = (await json(host, 'faults', 'list', '--open')).faults.map((f: { agentId: string }) => f.agentId);
    expect(open).toEqual([a3.id]);
  });

  it('a malformed heartbeat is refused with its reason and quarantined; it does not count as heard', async () => {
    await world(2, 3);
    await bothSilent();
    await deliverFromAgent(root, a3, 'heartbeat', { devices: [{ deviceId: 'bad id with spaces' }] });
    const r = await run(host, 4, 'inbox');
    expect(r.stdout).toContain('quarantined BAD_FIELD: heartbeat: devices[0].deviceId');
    const box = mailboxDir(path.join(root, 'mail'), 'host@example.com');
    expect(
      fs.readdirSync(path.join(box, '.rds-quarantine', 'cur')).length + fs.readdirSync(path.join(box, '.rds-quarantine', 'new')).length,
    ).toBe(1);
    expect((await json(host, 'faults', 'list', '--open')).faults.map((f: { agentId: string }) => f.agentId)).toEqual([a2.id, a3.id]);
  });

  it('alerts feed --json gives every event for a ticket system; alerts test sends a sample', async () => {
    await world(1, 2, 3);
    await tonerGoesLow();
    await bothSilent();
    const feed = await json(host, 'alerts', 'feed', '--since', iso(now - DAY));
    expect(feed.events.map((e: { kind: string; agentId: string }) => `${e.kind}:${e.agentId}`)).toEqual([
      `supply-low:${a1.id}`,
      `agent-silent:${a2.id}`,
      `agent-silent:${a3.id}`,
    ]);
    expect(feed.events[0]).toMatchObject({ source: 'host', severity: 'warning', deviceId: 'mfp-sharp', subject: 'Magenta Toner' });
    expect((await run(host, 0, 'alerts', 'test', '--to', 'test@service.example')).stdout.trim()).toBe(
      'test alert sent to test@service.example\nmail: 1 sent',
    );
    const sample = await simpleParser(mailsTo('test@service.example')[0] as string);
    expect(sample.subject).toBe('[rds] test alert from HOST');
    expect(sample.text).toContain('a sample event from rds alerts test');
    const both = (await run(host, 0, 'alerts', 'test')).stdout.trim().split('\n');
    expect(both).toEqual([`test alert sent to ${DESK}`, 'test alert sent to critical@service.example', 'mail: 2 sent']);
    const bad = await rds(['--config', host.config, 'alerts', 'feed', '--since', 'yesterday'], { cwd: root });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^rds: --since 'yesterday' is not a date or time/);
  });
});

describe('service config', () => {
  it('a bad service block: exit 2, one line naming the field; no stack', async () => {
    await world();
    const config = JSON.parse(fs.readFileSync(host.config, 'utf8'));
    config.service = { alerts: { routes: [{ to: ['desk at service.example'] }] } };
    const file = path.join(root, 'bad-service.json');
    fs.writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    const r = await rds(['--config', file, 'supplies', 'list'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('rds: config: service.alerts.routes[0].to[0] must be a mail address');
  });
});

describe('meter reads by billing date', () => {
  const billing = new Date(now - 5 * DAY).toISOString().slice(0, 10);
  const billingEnd = Date.parse(`${billing}T23:59:59.999Z`);

  /** the whole fleet's readings: the Sharp's 40 days, mfp-quiet known from a heartbeat, and AGENT0000003's gap and swap */
  async function readings(): Promise<void> {
    await world(1, 2, 3);
    await tonerGoesLow();
    await heartbeats();
    await deliverCounterReport(root, a3, [
      { deviceId: 'mfp-gap', readAt: iso(now - 15 * DAY), total: 10_000 },
      { deviceId: 'mfp-gap', readAt: iso(now), total: 13_000 },
      { deviceId: 'mfp-swap', readAt: iso(now - 9 * DAY), total: 50_000 },
      { deviceId: 'mfp-swap', readAt: iso(now - 6 * DAY), total: 120 },
    ]);
    await run(host, 0, 'inbox');
  }

  it('--on DATE: one row per device — read, estimated with its basis, reset, missing', async () => {
    await readings();
    const { reads } = await json(host, 'counters', 'export', '--on', billing);
    const by = (device: string) => reads.find((r: { deviceId: string }) => r.deviceId === device);
    expect(reads.map((r: { deviceId: string }) => r.deviceId).sort()).toEqual(['mfp-gap', 'mfp-quiet', 'mfp-sharp', 'mfp-swap']);
    const sharp = by('mfp-sharp');
    expect(sharp.status).toBe('read');
    expect(billingEnd - Date.parse(sharp.readAt)).toBeLessThan(12 * HOUR);
    expect(sharp.flags).toEqual([]);
    const gap = by('mfp-gap');
    const expected = 10_000 + Math.floor((3_000 * (billingEnd - (now - 15 * DAY))) / (15 * DAY));
    expect(gap).toMatchObject({ status: 'estimated', method: 'interpolated', total: expected });
    expect(gap.basis).toEqual([
      { readAt: iso(now - 15 * DAY), total: 10_000 },
      { readAt: iso(now), total: 13_000 },
    ]);
    expect(by('mfp-swap')).toMatchObject({ status: 'read', total: 120, flags: ['reset'] });
    expect(by('mfp-quiet')).toMatchObject({ agentId: a2.id, status: 'missing', total: null, reason: 'no readings' });

    const csv = (await run(host, 0, 'counters', 'export', '--on', billing, '--csv')).stdout.trim().split('\n');
    expect(csv[0]).toBe('agent,device,serial,billing_date,status,read_at,total,mono,colour,method,basis,flags,reason');
    expect(csv).toHaveLength(5);
    expect(csv.find((l) => l.includes('mfp-gap'))).toContain(
      `,estimated,,${expected},,,interpolated,10000@${iso(now - 15 * DAY)} 13000@${iso(now)},,`,
    );
    expect(csv.find((l) => l.includes('mfp-quiet'))).toMatch(/,missing,.*,no readings$/);
  });

  it('--cycle monthly --day N: start read, end read and pages per device; a device without readings is listed as missing', async () => {
    await readings();
    const day = new Date(billingEnd).getUTCDate();
    const cycle = await json(host, 'counters', 'export', '--cycle', 'monthly', '--day', String(day));
    expect(cycle.periodEnd).toBe(new Date(billingEnd).toISOString());
    const sharp = cycle.rows.find((r: { deviceId: string }) => r.deviceId === 'mfp-sharp');
    expect(sharp).toMatchObject({ status: 'read', flags: [] });
    expect(sharp.pages).toBe(sharp.end.total - sharp.start.total);
    expect(sharp.pages).toBeGreaterThan(0);
    const others = cycle.rows.filter((r: { deviceId: string }) => r.deviceId !== 'mfp-sharp');
    expect(others.map((r: { deviceId: string; status: string }) => `${r.deviceId}:${r.status}`).sort()).toEqual([
      'mfp-gap:missing',
      'mfp-quiet:missing',
      'mfp-swap:missing',
    ]);
    for (const r of cycle.rows) expect(r.pages === null || r.pages >= 0).toBe(true);
    const csv = (await run(host, 0, 'counters', 'export', '--cycle', 'monthly', '--day', String(day), '--csv')).stdout.trim().split('\n');
    expect(csv[0]).toBe('agent,device,serial,period_start,period_end,start_total,start_status,end_total,end_status,pages,status,flags');
    expect(csv).toHaveLength(5);
  });

  it('a bad date or cycle: exit 2, one line', async () => {
    await world();
    for (const args of [
      ['--on', '2026-13-45'],
      ['--cycle', 'weekly'],
      ['--cycle', 'monthly', '--day', '32'],
      ['--on', billing, '--tolerance', 'a while'],
    ]) {
      const r = await rds(['--config', host.config, 'counters', 'export', ...args], { cwd: root });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/this is a bug|\n\s+at /);
    }
  });
});
