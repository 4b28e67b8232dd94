// Helpers for tests of the `e2e` and `hostile` projects: where the real servers started by
// test/support/servers.ts listen, and how to change what the SNMP agents report at run time.
// Call them inside tests or hooks (they use vitest's inject()).
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { inject } from 'vitest';

export const LOOPBACK = '127.0.0.1';
/** Name in the testbed TLS certificate (SAN DNS:localhost, IP:127.0.0.1). */
export const TLS_SERVERNAME = 'localhost';

export interface MailTestbed {
  host: string;
  /** State dir of Postfix + Dovecot (logs in log/, maildirs in mailboxes/<domain>/<user>/Maildir). */
  dir: string;
  domain: string;
  password: string;
  smtpPort: number;
  submissionPort: number;
  smtpsPort: number;
  imapPort: number;
  imapsPort: number;
  pop3Port: number;
  pop3sPort: number;
  lmtpPort: number;
  /** Self-signed certificate of both servers; it is its own CA. */
  caFile: string;
  ca: Buffer;
  /** Ready for nodemailer / imapflow `tls`: verifies the server against the testbed CA. */
  tls: { ca: Buffer; servername: string };
  /** host@domain: the operator's mailbox. */
  hostAddress: string;
  /** agent1@domain .. agentN@domain. */
  agentAddresses: string[];
  agentAddress(n: number): string;
}

export function mailTestbed(): MailTestbed {
  const dir = inject('mailDir');
  const domain = inject('mailDomain');
  const caFile = path.join(dir, 'tls', 'cert.pem');
  const ca = readFileSync(caFile);
  const agents = inject('mailAgents');
  const agentAddress = (n: number): string => {
    if (!Number.isInteger(n) || n < 1 || n > agents) throw new RangeError(`testbed has agent1..agent${agents}, not agent${n}`);
    return `agent${n}@${domain}`;
  };
  return {
    host: LOOPBACK,
    dir,
    domain,
    password: inject('mailPassword'),
    smtpPort: inject('smtpPort'),
    submissionPort: inject('submissionPort'),
    smtpsPort: inject('smtpsPort'),
    imapPort: inject('imapPort'),
    imapsPort: inject('imapsPort'),
    pop3Port: inject('pop3Port'),
    pop3sPort: inject('pop3sPort'),
    lmtpPort: inject('lmtpPort'),
    caFile,
    ca,
    tls: { ca, servername: TLS_SERVERNAME },
    hostAddress: `host@${domain}`,
    agentAddresses: Array.from({ length: agents }, (_, i) => `agent${i + 1}@${domain}`),
    agentAddress,
  };
}

/**
 * A separate, plain imapflow session on the testbed as `address`: the test's own view of a
 * mailbox (IMAP STARTTLS by default, IMAPS with `implicitTls`), certificates verified.
 */
export async function withImapSession<T>(
  address: string,
  fn: (client: ImapFlow) => Promise<T>,
  options: { implicitTls?: boolean } = {},
): Promise<T> {
  const tb = mailTestbed();
  const client = new ImapFlow({
    host: tb.host,
    port: options.implicitTls ? tb.imapsPort : tb.imapPort,
    secure: options.implicitTls ?? false,
    tls: tb.tls,
    auth: { user: address, pass: tb.password },
    logger: false,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.logout();
  }
}

export interface SnmpdTestbed {
  host: string;
  port: number;
  community: string;
  /** .snmprec file the agent answers from (Printer-MIB 43, hrDevice 25.3.2, hrPrinter 25.3.5). */
  dataFile: string;
}

/** The scriptable snmpd (one printer). Change its values with setSnmprecValues(dataFile, ...). */
export function snmpdTestbed(): SnmpdTestbed {
  return {
    host: LOOPBACK,
    port: inject('snmpdPort'),
    community: inject('snmpdCommunity'),
    dataFile: inject('snmpdDataFile'),
  };
}

export interface SnmpsimTestbed {
  host: string;
  port: number;
  dataDir: string;
  /** One simulated device per community: fixture walks (e.g. sharp-mx3570n) and printer-001.. */
  communities: string[];
  fileFor(community: string): string;
}

/** The snmpsim fleet. Devices are fixed at start; change a device's values with setSnmpsimValues. */
export function snmpsimTestbed(): SnmpsimTestbed {
  const dataDir = inject('snmpsimDataDir');
  const communities = inject('snmpsimCommunities');
  return {
    host: LOOPBACK,
    port: inject('snmpsimPort'),
    dataDir,
    communities,
    fileFor(community: string) {
      if (!communities.includes(community)) throw new RangeError(`no simulated device "${community}"`);
      return path.join(dataDir, `${community}.snmprec`);
    },
  };
}

/**
 * Rewrites a .snmprec file atomically. `values` maps an OID (no leading dot) to
 * "TAG|VALUE" (e.g. '2|5', '4|Toner low', '4x|20', '65|12399'), or to null to delete the row.
 * Rows for new OIDs are appended (the readers sort by OID). Returns the new text.
 * The snmpd data file is re-read on its next request (mtime or size change).
 */
export function setSnmprecValues(file: string, values: Record<string, string | null>, mtimeSeconds?: number): string {
  const pending = new Map(Object.entries(values).map(([oid, v]) => [oid.replace(/^\./, ''), v]));
  const lines: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const oid = line.slice(0, line.indexOf('|'));
    if (!pending.has(oid)) {
      lines.push(line);
      continue;
    }
    const v = pending.get(oid);
    pending.delete(oid);
    if (v != null) lines.push(`${oid}|${v}`);
  }
  for (const [oid, v] of pending) if (v != null) lines.push(`${oid}|${v}`);
  const text = `${lines.join('\n')}\n`;
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  if (mtimeSeconds !== undefined) utimesSync(tmp, mtimeSeconds, mtimeSeconds);
  renameSync(tmp, file);
  return text;
}

/**
 * setSnmprecValues for a snmpsim device. snmpsimd compares whole-second mtimes of the data
 * file with the one it indexed (and with its index file) and silently serves stale data when
 * they match, so the new file gets an mtime one second past both the old one and now.
 */
export function setSnmpsimValues(community: string, values: Record<string, string | null>): string {
  const file = snmpsimTestbed().fileFor(community);
  const before = Math.floor(statSync(file).mtimeMs / 1000);
  return setSnmprecValues(file, values, Math.max(before + 1, Math.floor(Date.now() / 1000) + 1));
}

const SCRIPTS_DIR = fileURLToPath(new URL('../../scripts/testbed/', import.meta.url));

/** An snmpd of a test's own serving this machine's HOST-RESOURCES-MIB (scripts/testbed/start-snmp-host.sh). */
export interface HostSnmpd {
  port: number;
  addresses: string[];
  /** hrSystem (uptime …) as .snmprec: rewrite with setSnmprecValues to make the host restart. */
  systemFile: string;
  stop(): void;
}

/** Start it on a free UDP port of every given 127.x address; stop it in afterAll. */
export async function startHostSnmpd(dir: string, addresses: readonly string[] = [LOOPBACK], udpPort?: number): Promise<HostSnmpd> {
  const port = udpPort ?? (await freeUdpPort(addresses));
  const state = path.join(dir, 'snmp-host');
  execFileSync(path.join(SCRIPTS_DIR, 'start-snmp-host.sh'), [state], {
    env: { ...process.env, SNMP_PORT: String(port), SNMP_ADDRESSES: addresses.join(',') },
    stdio: 'pipe',
  });
  return {
    port,
    addresses: [...addresses],
    systemFile: path.join(state, 'system.snmprec'),
    stop: () => execFileSync(path.join(SCRIPTS_DIR, 'stop-snmp.sh'), [state], { stdio: 'pipe' }),
  };
}

/** A UDP port free on every one of the addresses (bound and released, then handed to snmpd). */
export async function freeUdpPort(addresses: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => first.bind(0, addresses[0], resolve));
    const { port } = first.address();
    const others = addresses.slice(1).map(() => dgram.createSocket('udp4'));
    const ok = await Promise.all(
      others.map(
        (s, i) =>
          new Promise<boolean>((resolve) => {
            s.once('error', () => resolve(false));
            s.bind(port, addresses[i + 1], () => resolve(true));
          }),
      ),
    );
    for (const s of [first, ...others]) {
      try {
        s.close();
      } catch {
        // never bound
      }
    }
    if (ok.every(Boolean)) return port;
  }
  throw new Error(`no UDP port free on all of ${addresses.join(', ')}`);
}
