// Vitest globalSetup for the `e2e` and `hostile` projects (see vitest.config.ts):
// starts REAL servers on 127.0.0.1 once per project and run, hands their
// addresses to the tests through `provide` (read them with test/support/testbed.ts),
// and stops them afterwards.
//
//   Postfix  SMTP (no auth from loopback), submission (AUTH, STARTTLS), smtps (implicit TLS)
//            -> LMTP -> Dovecot IMAP / IMAPS; users host, agent1..agent20 @example.test,
//            password "secret"; TLS cert (its own CA) in <mailDir>/tls/cert.pem
//   snmpd    one scriptable printer; values come from <snmpdDataFile> (.snmprec),
//            re-read on every change (rewrite it atomically: write tmp + rename)
//   snmpsim  one simulated device per community = file name in <snmpsimDataDir>:
//            the walks in fixtures/printers/ plus a fleet printer-001..printer-NNN
//
// Missing binaries or a non-root user are errors, never skips: the message says what to run.
// The scripts live in scripts/testbed/ and can be used by hand as well.
import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { accessSync, constants, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPTS = path.join(ROOT, 'scripts', 'testbed');
const PRINTER_FIXTURES = path.join(ROOT, 'fixtures', 'printers');
const STATE_PREFIX = 'rds-testbed-';
const execFileP = promisify(execFile);

/** Default ports; a port already taken (e.g. by a parallel run) is replaced by a free one. */
const DEFAULT_TCP = { smtp: 2525, submission: 2587, smtps: 2465, imap: 2143, imaps: 2993, pop3: 2110, pop3s: 2995, lmtp: 2424, auth: 2412 };
const DEFAULT_UDP = { snmpd: 11161, snmpsim: 11162 };
const DEFAULT_IPP = 8631;
const REQUIRED_BINARIES = ['postfix', 'dovecot', 'doveadm', 'openssl', 'snmpd', 'snmpget', 'snmpsimd', 'ippeveprinter', 'dbus-daemon'];

export const MAIL_DOMAIN = 'example.test';
export const MAIL_PASSWORD = 'secret';
export const MAIL_AGENTS = 20;
export const SNMPD_COMMUNITY = 'public';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Root of this run's state (all of the below lives under it). */
    testbedDir: string;
    /** State dir of Postfix+Dovecot: tls/cert.pem (CA to trust), log/, mailboxes/. */
    mailDir: string;
    mailDomain: string;
    mailPassword: string;
    /** Number of agent mailboxes: agent1..agentN@mailDomain (plus host@mailDomain). */
    mailAgents: number;
    /** Plain SMTP: no AUTH needed from 127.0.0.1, STARTTLS offered. */
    smtpPort: number;
    /** Submission: AUTH required, STARTTLS offered (plaintext AUTH also accepted). */
    submissionPort: number;
    /** Submission over implicit TLS, AUTH required. */
    smtpsPort: number;
    /** IMAP: STARTTLS offered, plaintext login allowed. */
    imapPort: number;
    /** IMAP over implicit TLS. */
    imapsPort: number;
    /** POP3 (same users and Maildirs as IMAP): STLS offered, plaintext login allowed. */
    pop3Port: number;
    /** POP3 over implicit TLS. */
    pop3sPort: number;
    /** Dovecot LMTP (what Postfix delivers to). */
    lmtpPort: number;
    /** snmpd (udp, community "public") serving Printer-MIB + hrDevice/hrPrinter from snmpdDataFile. */
    snmpdPort: number;
    snmpdCommunity: string;
    snmpdDataFile: string;
    /** snmpsimd (udp): community = file name (without .snmprec) in snmpsimDataDir. */
    snmpsimPort: number;
    snmpsimDataDir: string;
    snmpsimCommunities: string[];
    /** ippeveprinter (IPP Everywhere printer) on localhost: ipp://localhost:PORT/ipp/print; supplies settable at http://localhost:PORT/supplies */
    ippPort: number;
  }
}

// ---- ports -------------------------------------------------------------------------------

// shared by every instance of this module in the process (each project imports it anew)
const g = globalThis as { __rdsTestbedPorts?: Set<number> };
g.__rdsTestbedPorts ??= new Set<number>();
const claimed = g.__rdsTestbedPorts;

function tcpFree(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
}

function udpFree(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => resolve(null));
    sock.bind(port, '127.0.0.1', () => {
      const got = sock.address().port;
      sock.close(() => resolve(got));
    });
  });
}

async function pickPort(preferred: number, probe: (p: number) => Promise<number | null>): Promise<number> {
  if (!claimed.has(preferred) && (await probe(preferred)) === preferred) {
    claimed.add(preferred);
    return preferred;
  }
  for (let i = 0; i < 20; i++) {
    const p = await probe(0);
    if (p && !claimed.has(p)) {
      claimed.add(p);
      return p;
    }
  }
  throw new Error(`testbed: no free port found (wanted ${preferred})`);
}

// ---- preconditions -----------------------------------------------------------------------

function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return path.join(dir, name);
    } catch {
      /* not here */
    }
  }
  return null;
}

function checkPreconditions(): void {
  const missing = REQUIRED_BINARIES.filter((b) => !findBinary(b));
  if (missing.length > 0) {
    throw new Error(
      `testbed: the real-server tests need ${missing.join(', ')} (not found). ` +
        'Run scripts/testbed/install-deps.sh as root (Debian: postfix dovecot-imapd dovecot-lmtpd dovecot-pop3d snmpd snmp snmpsim cups-ipp-utils dbus openssl gnupg).',
    );
  }
  if (process.getuid?.() !== 0) {
    throw new Error(
      'testbed: the real-server tests (projects e2e, hostile) must run as root: they start private Postfix, Dovecot, snmpd and snmpsimd instances. Use `npm run test:unit` for unit tests only.',
    );
  }
}

// ---- start / stop ------------------------------------------------------------------------

interface Instance {
  base: string;
  mailDir: string;
  snmpDir: string;
  simDir: string;
  ippDir: string;
  stopped: boolean;
}

function stopSync(inst: Instance, keep: boolean): void {
  if (inst.stopped) return;
  inst.stopped = true;
  const env = { ...process.env, KEEP_STATE: keep ? '1' : '0' };
  const errors: string[] = [];
  for (const [script, dir] of [
    ['stop-ipp.sh', inst.ippDir],
    ['stop-snmpsim.sh', inst.simDir],
    ['stop-snmp.sh', inst.snmpDir],
    ['stop-mail.sh', inst.mailDir],
  ]) {
    try {
      execFileSync(path.join(SCRIPTS, script), [dir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      errors.push(`${script}: ${(e as Error).message}`);
    }
  }
  if (keep)
    rmSync(path.join(inst.base, 'owner.pid'), { force: true }); // servers are down: nothing to reap
  else rmSync(inst.base, { recursive: true, force: true });
  if (errors.length > 0) console.error(`testbed: teardown problems:\n${errors.join('\n')}`);
}

/** Stops testbeds left behind by runs that were killed before their teardown. */
function reapStale(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(STATE_PREFIX)) continue;
    const base = path.join(tmpdir(), name);
    let owner = 0;
    try {
      owner = Number(readFileSync(path.join(base, 'owner.pid'), 'utf8'));
    } catch {
      continue; // kept on purpose (RDS_TESTBED_KEEP) or not ours
    }
    try {
      process.kill(owner, 0);
      continue; // its run is still alive
    } catch {
      /* owner gone */
    }
    console.warn(`testbed: stopping servers left over by a dead run (pid ${owner}) in ${base}`);
    stopSync(
      { base, mailDir: `${base}/mail`, snmpDir: `${base}/snmp`, simDir: `${base}/snmpsim`, ippDir: `${base}/ipp`, stopped: false },
      false,
    );
  }
}

async function run(script: string, args: string[], env: Record<string, string>): Promise<string> {
  try {
    const { stdout } = await execFileP(path.join(SCRIPTS, script), args, {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return stdout.trim();
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`testbed: ${script} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  checkPreconditions();
  reapStale();
  const t0 = performance.now();
  const tcp = {} as Record<keyof typeof DEFAULT_TCP, number>;
  for (const [k, p] of Object.entries(DEFAULT_TCP)) tcp[k as keyof typeof DEFAULT_TCP] = await pickPort(p, tcpFree);
  const snmpdPort = await pickPort(DEFAULT_UDP.snmpd, udpFree);
  const snmpsimPort = await pickPort(DEFAULT_UDP.snmpsim, udpFree);
  const ippPort = await pickPort(DEFAULT_IPP, tcpFree);

  const base = mkdtempSync(path.join(tmpdir(), STATE_PREFIX));
  writeFileSync(path.join(base, 'owner.pid'), String(process.pid));
  const inst: Instance = {
    base,
    mailDir: path.join(base, 'mail'),
    snmpDir: path.join(base, 'snmp'),
    simDir: path.join(base, 'snmpsim'),
    ippDir: path.join(base, 'ipp'),
    stopped: false,
  };
  const keep = process.env.RDS_TESTBED_KEEP === '1';
  const onExit = () => stopSync(inst, keep);
  process.once('exit', onExit); // last resort if the teardown never runs

  // snmpsim data: the real printer walks + a generated fleet
  const simData = path.join(inst.simDir, 'data');
  const fleet = Number(process.env.RDS_TESTBED_PRINTERS ?? 20);
  cpSync(PRINTER_FIXTURES, simData, { recursive: true, filter: (f) => !f.endsWith('.md') });
  execFileSync(path.join(SCRIPTS, 'make-printer-fleet.sh'), [simData, String(fleet)]);
  const snmpdData = path.join(inst.snmpDir, 'printer.snmprec');

  try {
    const out = await Promise.all([
      run('start-mail.sh', [inst.mailDir], {
        SMTP_PORT: String(tcp.smtp),
        SUBMIT_PORT: String(tcp.submission),
        SMTPS_PORT: String(tcp.smtps),
        IMAP_PORT: String(tcp.imap),
        IMAPS_PORT: String(tcp.imaps),
        POP3_PORT: String(tcp.pop3),
        POP3S_PORT: String(tcp.pop3s),
        LMTP_PORT: String(tcp.lmtp),
        AUTH_PORT: String(tcp.auth),
        MAIL_DOMAIN,
        MAIL_PASSWORD,
      }),
      run('start-snmp.sh', [inst.snmpDir, snmpdData], {
        SNMP_PORT: String(snmpdPort),
        SNMP_COMMUNITY: SNMPD_COMMUNITY,
      }),
      run('start-snmpsim.sh', [inst.simDir, simData], { SNMPSIM_PORT: String(snmpsimPort) }),
      run('start-ipp.sh', [inst.ippDir], { IPP_PORT: String(ippPort) }),
    ]);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`testbed [${project.name}] up in ${secs} s (${base}):\n  ${out.join('\n  ')}`);
  } catch (e) {
    stopSync(inst, keep);
    process.off('exit', onExit);
    throw e;
  }

  project.provide('testbedDir', base);
  project.provide('mailDir', inst.mailDir);
  project.provide('mailDomain', MAIL_DOMAIN);
  project.provide('mailPassword', MAIL_PASSWORD);
  project.provide('mailAgents', MAIL_AGENTS);
  project.provide('smtpPort', tcp.smtp);
  project.provide('submissionPort', tcp.submission);
  project.provide('smtpsPort', tcp.smtps);
  project.provide('imapPort', tcp.imap);
  project.provide('imapsPort', tcp.imaps);
  project.provide('pop3Port', tcp.pop3);
  project.provide('pop3sPort', tcp.pop3s);
  project.provide('lmtpPort', tcp.lmtp);
  project.provide('snmpdPort', snmpdPort);
  project.provide('snmpdCommunity', SNMPD_COMMUNITY);
  project.provide('snmpdDataFile', snmpdData);
  project.provide('snmpsimPort', snmpsimPort);
  project.provide('snmpsimDataDir', simData);
  project.provide('ippPort', ippPort);
  project.provide(
    'snmpsimCommunities',
    readdirSync(simData)
      .filter((f) => f.endsWith('.snmprec'))
      .map((f) => f.slice(0, -'.snmprec'.length))
      .sort(),
  );

  return () => {
    process.off('exit', onExit);
    stopSync(inst, keep);
    for (const p of [...Object.values(tcp), snmpdPort, snmpsimPort, ippPort]) claimed.delete(p);
    if (keep) console.log(`testbed: servers stopped, state kept in ${base} (RDS_TESTBED_KEEP=1)`);
  };
}
