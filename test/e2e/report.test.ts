// `rds report` as a person uses it (issue 15 part 1): a host on the embedded mail backend with
// three agents (one installs the update, one rolls back, one never answers and has a hostile
// customer note), a fault and 40 days of counters with a low supply whose texts are hostile
// too, all through the real binary and signed agent mail. The report file is then opened
// from disk by Debian's headless Chromium: the DOM it built (rows, ✗ marks, the chart's SVG,
// the hostile text shown as text and nothing of it run), a screenshot, and a proxy every
// request would have to pass: a control page proves the proxy sees a request when there is one.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverCounterReport, deliverFromAgent, type HistoryReading } from '../support/agent-reports.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, modeOf, rds, rdsExpect, tempDir } from '../support/cli.js';

const DAY = 86_400_000;
const CHROMIUM = '/usr/bin/chromium';
// each payload marks the page if it ever runs; the DOM check looks for the mark
const NOTE = `<script>document.body.setAttribute('data-pwned','note')</script> ccc\x1b[2J Clinic \u202eexe.txt`;
const SUBUNIT = `</style><script>document.body.setAttribute('data-pwned','fault')</script>`;
const SUPPLY = `"><img src=x onerror="document.body.setAttribute('data-pwned','supply')">`;

let root: string;
let host: HostNode;
let good: AgentNode;
let bad: AgentNode;
let quiet: AgentNode;
let reportFile: string;
let proxy: { port: number; seen: string[]; close: () => Promise<void> };

const run = (node: { config: string }, expected: number, ...args: string[]) =>
  rdsExpect(expected, ['--config', node.config, ...args], { cwd: root });

/**
 * Chromium's own services (component and extension updates, sign-in) call Google whatever the
 * flags say; those requests are the browser's, not the page's, and are left out of the record.
 * Any other host is recorded: the control page below shows one being caught.
 */
const BROWSER_OWN = /^(CONNECT |[A-Z]+ https?:\/\/)([a-z0-9-]+\.)*(google\.com|googleapis\.com|gstatic\.com|gvt1\.com)[:/]/;

/** A TCP listener standing in for a proxy: it records the first line of every connection and closes it. */
function startProxy(): Promise<typeof proxy> {
  const seen: string[] = [];
  const server = net.createServer((socket) => {
    socket.once('data', (chunk) => {
      const line = chunk.toString('latin1').split('\r\n')[0] ?? '';
      if (!BROWSER_OWN.test(line)) seen.push(line);
      socket.destroy();
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        seen,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    ),
  );
}

/** Headless Chromium on a file from disk, every request sent to the recording proxy; resolves with stdout. */
function chromium(file: string, extra: string[]): Promise<string> {
  const profile = tempDir('rds-report-chromium-');
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-features=Translate,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying',
    '--disable-extensions',
    '--disable-domain-reliability',
    '--no-pings',
    `--user-data-dir=${profile}`,
    `--proxy-server=http://127.0.0.1:${proxy.port}`,
    '--proxy-bypass-list=<-loopback>',
    ...extra,
    `file://${file}`,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 90_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      fs.rmSync(profile, { recursive: true, force: true });
      if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** 40 days of readings twice a day from a colour device, its black toner ending at 8 %. */
function counterHistory(now: number): HistoryReading[] {
  const start = now - 40 * DAY;
  return Array.from({ length: 81 }, (_, k) => ({
    deviceId: 'mfp-1',
    readAt: new Date(start + k * DAY * 0.5).toISOString(),
    total: 50_000 + k * 300,
    mono: 30_000 + k * 200,
    colour: 20_000 + k * 100,
    supplies: [{ index: '1', description: SUPPLY, type: 'toner', class: 'supplyThatIsConsumed', percent: Math.max(8, 60 - k) }],
  }));
}

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-report-e2e-');
  host = await initHost(root);
  good = await initAgent(root, host, { id: 'AGENT0000001' });
  bad = await initAgent(root, host, { id: 'AGENT0000002' });
  quiet = await initAgent(root, host, { id: 'AGENT0000003', register: false });
  await run(
    host,
    0,
    'agents',
    'add',
    '--id',
    quiet.id,
    '--address',
    'agent0000003@example.com',
    '--key',
    quiet.publicKeyFile,
    '--note',
    NOTE,
  );
  const script = path.join(root, 'install.sh');
  fs.writeFileSync(
    script,
    '#!/bin/sh\nif [ -e "$RDS_INSTALL_ROOT/fail-install" ]; then echo "cp: No space left on device" >&2; exit 1; fi\ncp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"\n',
    { mode: 0o755 },
  );
  fs.writeFileSync(path.join(bad.installRoot, 'fail-install'), '');
  fs.writeFileSync(path.join(root, 'main.cgi'), 'main 1.0.02\n');
  const pkg = path.join(root, 'up.rdsu');
  await run(
    host,
    0,
    'pack-update',
    '--software-version',
    '1.0.02-0',
    '--script',
    script,
    '--module',
    `main.cgi=1.0.02:${path.join(root, 'main.cgi')}`,
    '-o',
    pkg,
  );
  await run(host, 0, 'push-all', pkg);
  await run(good, 0, 'poll-mail');
  await run(bad, 1, 'poll-mail');
  const now = Date.now();
  await deliverFromAgent(root, good, 'fault-report', {
    reports: [
      {
        eventId: 'ev-1',
        kind: 'raised',
        deviceId: 'mfp-1',
        code: 'jam',
        subunit: SUBUNIT,
        severity: 'critical',
        raisedAt: new Date(now - DAY).toISOString(),
        clearedAt: null,
      },
    ],
  });
  await deliverCounterReport(root, good, counterHistory(now));
  await run(host, 0, 'inbox');
  // the quiet agent was registered five days ago, as if the host's clock had moved on
  const db = new Database(path.join(host.dir, 'state', 'state.db'));
  db.prepare('UPDATE agents SET added_at = ? WHERE id = ?').run(new Date(now - 5 * DAY).toISOString(), quiet.id);
  db.close();
  proxy = await startProxy();
  reportFile = path.join(root, 'out', 'fleet.html');
  fs.mkdirSync(path.dirname(reportFile));
  await run(host, 0, 'report', '--html', reportFile);
}, 240_000);

afterAll(async () => {
  await proxy?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('rds report opened in a real browser', () => {
  it('the DOM Chromium builds: the three agents, two ✗ marks, the summary, the chart SVG, the hostile text shown and never run', async () => {
    const dom = await chromium(reportFile, ['--dump-dom']);
    const fleet = /<table id="fleet"[\s\S]*?<\/table>/.exec(dom)?.[0] ?? '';
    expect(fleet.match(/<tr>/g)).toHaveLength(1 + 3); // the head and one row per agent
    expect(fleet.match(/✗ /g)).toHaveLength(2);
    expect(fleet).toContain('✗ rolled-back: install script exited with status 1 / log: cp: No space left on device');
    expect(fleet).toContain('✗ no-reply');
    expect(dom).toContain('update to: 1.0.02-0');
    expect(dom).toContain('2 of 3 agents failed');
    expect(dom).toMatch(
      /<section id="usage-section">[\s\S]*<h3>AGENT0000001 \/ mfp-1 \(serial SER-mfp-1\)<\/h3>\s*<figure class="chart"><svg /,
    );
    // open faults by severity, then the oldest first, with the age since the device raised it
    const faults = /<table id="faults"[\s\S]*?<\/table>/.exec(dom)?.[0] ?? '';
    expect([...faults.matchAll(/<td class="sev-(\w+)">/g)].map((m) => m[1])).toEqual(['critical', 'critical', 'warning']);
    expect(faults).toMatch(/<td>jam<\/td>(<td[^>]*>[^<]*<\/td>)+<td class="num" data-sort="\d+">1 d 0 h<\/td>/);
    expect(dom).toMatch(/<table id="silent"[\s\S]*AGENT0000003[\s\S]*<\/table>/);
    // shown as text: the serialised DOM escapes it again; controls and the RTL override visibly escaped
    expect(dom).toContain("&lt;script&gt;document.body.setAttribute('data-pwned','note')&lt;/script&gt; ccc\\x1b[2J Clinic \\u202eexe.txt");
    expect(dom).toContain("&lt;/style&gt;&lt;script&gt;document.body.setAttribute('data-pwned','fault')&lt;/script&gt;");
    expect(dom).toContain("\"&gt;&lt;img src=x onerror=\"document.body.setAttribute('data-pwned','supply')\"&gt;");
    // nothing of it became an element or ran; the page's own script did run (the filter box shows)
    expect(dom).not.toContain('data-pwned="');
    expect(dom.match(/<script\b/g)).toHaveLength(1);
    expect(dom).not.toMatch(/<img\b/);
    expect(dom).toMatch(/<p class="controls"><label>Filter/);
    expect(proxy.seen).toEqual([]);
  });

  it('a screenshot is taken (a PNG of the page) and no request left the page', async () => {
    const shot = path.join(root, 'report.png');
    await chromium(reportFile, [`--screenshot=${shot}`, '--window-size=1200,2600', '--hide-scrollbars']);
    const png = fs.readFileSync(shot);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.length).toBeGreaterThan(20_000);
    expect(proxy.seen).toEqual([]);
  });

  it('the proxy check can fail: a page with one remote image makes Chromium ask the proxy for it', async () => {
    const control = path.join(root, 'control.html');
    fs.writeFileSync(control, '<!DOCTYPE html><html><body><img src="http://report-control.example/pixel.png"></body></html>');
    await chromium(control, ['--dump-dom']);
    expect(proxy.seen.some((line) => line.includes('report-control.example'))).toBe(true);
    proxy.seen.length = 0;
  });
});

describe('the report file', () => {
  it('is written 0600, and a symlink at FILE is refused (exit 2) and left alone', async () => {
    expect(modeOf(reportFile)).toBe(0o600);
    const link = path.join(root, 'out', 'link.html');
    fs.symlinkSync(path.join(root, 'main.cgi'), link);
    const r = await rds(['--config', host.config, 'report', '--html', link], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--html .*link\.html is a symlink/);
    expect(fs.readFileSync(path.join(root, 'main.cgi'), 'utf8')).toBe('main 1.0.02\n');
  });

  it('without --html: fleet-report-DATE.html in the current folder; --json names it', async () => {
    const cwd = tempDir('rds-report-cwd-');
    const r = await rdsExpect(0, ['--config', host.config, '--json', 'report'], { cwd });
    const out = JSON.parse(r.stdout) as { file: string; agents: number; failed: number };
    expect(path.dirname(out.file)).toBe(fs.realpathSync(cwd));
    expect(path.basename(out.file)).toMatch(/^fleet-report-\d{4}-\d{2}-\d{2}\.html$/);
    expect(out.failed).toBe(2);
    expect(fs.readFileSync(out.file, 'utf8')).toMatch(/^<!DOCTYPE html>/);
  });
});
