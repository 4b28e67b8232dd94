// Hostile documents that are not mail: version report texts (every malformed shape is a
// ParseError naming the line, exit 2), config files (wrong types, missing keys, unreadable,
// malformed JSON: exit 2 naming the file, through the real binary), and SNMP answers from a
// device on a customer LAN (wrong value types, garbage OCTET STRINGs, huge tables, names
// that are JavaScript's own): the decoders give typed results or typed errors, never crash.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  decodeAlerts,
  decodeCounters,
  decodeIdentity,
  decodePrinterState,
  decodeSubunitLabels,
  decodeSupplies,
  deriveFaults,
  findPrinterIndex,
  HR,
  PRT,
  PWG_IC,
  parseSnmprec,
  SHARP,
  SYS,
  type Walk,
  type WalkValue,
} from '../../src/core/devices/index.js';
import { isRdsError, ParseError } from '../../src/core/errors.js';
import { parseVersionText } from '../../src/core/version/version-text.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, tempDir } from '../support/cli.js';
import { hostileTally } from './helpers.js';

const { hostileCase } = hostileTally('inputs');

// ---- version text -----------------------------------------------------------------------

const GOOD_HEAD = 'Software Version\t1.0.00-1\n';
// a version that breaks the version grammar has its own code (BAD_VERSION); other defects BAD_VERSION_TEXT
const VERSION_CASES: { name: string; text: string; line?: number; code?: 'BAD_VERSION' }[] = [
  { name: 'empty', text: '', line: 1 },
  { name: 'only blank lines', text: '\n  \n\t\n', line: 1 },
  { name: 'one space between label and version', text: 'Software Version 1.0.00-1\n---Modules---\n', line: 1 },
  { name: 'label in lower case', text: 'software version\t1.0.00-1\n---Modules---\n', line: 1 },
  { name: 'version without its third part', text: 'Software Version\t1.0\n---Modules---\n', line: 1, code: 'BAD_VERSION' },
  { name: 'version with a space in its free part', text: 'Software Version\t1.0.00 beta\n---Modules---\n', line: 1, code: 'BAD_VERSION' },
  { name: 'version in full-width digits', text: 'Software Version\t１.0.00\n---Modules---\n', line: 1, code: 'BAD_VERSION' },
  { name: 'a third column after the version', text: 'Software Version\t1.0.00-1\textra\n---Modules---\n', line: 1 },
  { name: 'ROM Version before Software Version', text: 'ROM Version\t1.5.08\nSoftware Version\t1.0.00-1\n---Modules---\n', line: 1 },
  { name: 'no Modules heading', text: GOOD_HEAD, line: 2 },
  { name: 'a misspelt Modules heading', text: `${GOOD_HEAD}--Modules--\n`, line: 2 },
  { name: 'ROM Version that is not a version', text: `${GOOD_HEAD}ROM Version\tv1\n---Modules---\n`, line: 2, code: 'BAD_VERSION' },
  { name: 'ROM Version twice', text: `${GOOD_HEAD}ROM Version\t1.5.08\nROM Version\t1.5.09\n---Modules---\n`, line: 3 },
  { name: 'module columns separated by single spaces', text: `${GOOD_HEAD}---Modules---\nabcd.exe 1.0.00 2002/01/01\n`, line: 3 },
  { name: 'module without a date', text: `${GOOD_HEAD}---Modules---\nabcd.exe\t1.0.00\n`, line: 3 },
  { name: 'module with four columns', text: `${GOOD_HEAD}---Modules---\nabcd.exe\t1.0.00\t2002/01/01\tx\n`, line: 3 },
  {
    name: 'module version that is not a version',
    text: `${GOOD_HEAD}---Modules---\nabcd.exe\tlatest\t2002/01/01\n`,
    line: 3,
    code: 'BAD_VERSION',
  },
  { name: 'module date in month 13', text: `${GOOD_HEAD}---Modules---\nabcd.exe\t1.0.00\t2002/13/01\n`, line: 3 },
  { name: 'module date with dashes', text: `${GOOD_HEAD}---Modules---\nabcd.exe\t1.0.00\t2002-01-01\n`, line: 3 },
  { name: 'the same module twice', text: `${GOOD_HEAD}---Modules---\na\t1.0.00\t2002/01/01\na\t1.0.01\t2002/01/02\n`, line: 4 },
  { name: 'a blank line among the modules', text: `${GOOD_HEAD}---Modules---\na\t1.0.00\t2002/01/01\n\nb\t1.0.00\t2002/01/01\n`, line: 4 },
  { name: 'a NUL byte', text: `${GOOD_HEAD}---Modules---\na\0\t1.0.00\t2002/01/01\n` },
  { name: '20,000 module lines', text: `${GOOD_HEAD}---Modules---\n${'m\t1.0.00\t2002/01/01\n'.repeat(20_000)}` },
];

describe('version text: every malformed shape is a ParseError naming the line (exit 2)', () => {
  for (const c of VERSION_CASES) {
    hostileCase(`${c.code ?? 'BAD_VERSION_TEXT'}: ${c.name}`, () => {
      let error: unknown;
      try {
        parseVersionText(c.text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ParseError);
      const e = error as ParseError;
      expect(e.code).toBe(c.code ?? 'BAD_VERSION_TEXT');
      expect(e.exitCode).toBe(2);
      if (c.line !== undefined) {
        expect(e.line).toBe(c.line);
        if (c.text.trim() !== '') expect(e.message).toContain(`line ${c.line}`);
      }
    });
  }
});

// ---- config -----------------------------------------------------------------------------

let root: string;
let host: HostNode;
let agent: AgentNode;
let goodHost: Record<string, unknown>;
let goodAgent: Record<string, unknown>;
let caseNo = 0;

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-hostile-inputs-');
  host = await initHost(root);
  agent = await initAgent(root, host, { id: 'AGENTI' });
  goodHost = JSON.parse(fs.readFileSync(host.config, 'utf8'));
  goodAgent = JSON.parse(fs.readFileSync(agent.config, 'utf8'));
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface ConfigCase {
  name: string;
  code: string;
  /** writes the bad config into `dir`, returns what to pass to --config */
  make: (dir: string) => string;
  role?: 'host' | 'agent';
  /** the file the message must name (default: the --config path) */
  names?: (dir: string) => string;
}

const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
};
const hostWith = (change: (c: Record<string, unknown>) => void) => (dir: string) => {
  const c = structuredClone(goodHost);
  change(c);
  return write(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
};
const agentWith = (change: (c: Record<string, unknown>) => void) => (dir: string) => {
  const c = structuredClone(goodAgent);
  change(c);
  return write(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
};

const CONFIG_CASES: ConfigCase[] = [
  { name: 'malformed JSON (cut short)', code: 'CONFIG_INVALID', make: (d) => write(path.join(d, 'config.json'), '{"role": "host",') },
  { name: 'an empty file', code: 'CONFIG_INVALID', make: (d) => write(path.join(d, 'config.json'), '') },
  { name: 'a JSON array', code: 'CONFIG_INVALID', make: (d) => write(path.join(d, 'config.json'), '[]') },
  { name: 'maxMessageSize is a string', code: 'CONFIG_INVALID', make: hostWith((c) => (c.maxMessageSize = 'big')) },
  { name: 'maxMessageSize below 1 KiB', code: 'CONFIG_INVALID', make: hostWith((c) => (c.maxMessageSize = 10)) },
  { name: 'role is a number', code: 'CONFIG_INVALID', make: hostWith((c) => (c.role = 7)) },
  { name: 'stateDir is missing', code: 'CONFIG_INVALID', make: hostWith((c) => delete c.stateDir) },
  { name: 'an agent config without hostKeyFile', code: 'CONFIG_INVALID', role: 'agent', make: agentWith((c) => delete c.hostKeyFile) },
  { name: 'an unknown key', code: 'CONFIG_INVALID', make: hostWith((c) => (c.runAsRoot = true)) },
  { name: "clockSkew '5 minutes'", code: 'CONFIG_INVALID', make: hostWith((c) => (c.clockSkew = '5 minutes')) },
  { name: 'an http:// mail URL', code: 'CONFIG_INVALID', make: hostWith((c) => (c.smtp = 'http://mail.example.com')) },
  {
    name: 'config.json is a directory (unreadable, even for root)',
    code: 'CONFIG_UNREADABLE',
    make: (d) => {
      fs.mkdirSync(path.join(d, 'config.json'), { recursive: true });
      return d;
    },
    names: (d) => path.join(d, 'config.json'),
  },
  {
    name: 'config.json is a symlink to itself (ELOOP)',
    code: 'CONFIG_UNREADABLE',
    make: (d) => {
      fs.mkdirSync(d, { recursive: true });
      fs.symlinkSync('config.json', path.join(d, 'config.json'));
      return path.join(d, 'config.json');
    },
  },
  {
    name: 'the config path lies beneath a regular file (ENOTDIR)',
    code: 'CONFIG_UNREADABLE',
    make: (d) => {
      write(path.join(d, 'file'), 'x');
      return path.join(d, 'file', 'config.json');
    },
  },
  { name: 'no config at that path', code: 'CONFIG_NOT_FOUND', make: (d) => path.join(d, 'missing.json') },
  {
    name: "the agent's pinned host key file is a directory",
    code: 'KEY_UNREADABLE',
    role: 'agent',
    make: agentWith((c) => {
      c.hostKeyFile = path.join(root, `keydir-${caseNo}`);
      fs.mkdirSync(c.hostKeyFile as string);
    }),
    names: () => path.join(root, `keydir-${caseNo}`),
  },
  {
    name: 'the private key file holds garbage',
    code: 'BAD_KEY',
    make: hostWith((c) => (c.keyFile = write(path.join(root, `garbage-${caseNo}.asc`), 'not a key'))),
    names: () => path.join(root, `garbage-${caseNo}.asc`),
  },
];

describe('config: wrong types, missing keys, unreadable, malformed → exit 2 naming the file', () => {
  for (const c of CONFIG_CASES) {
    hostileCase(`${c.code}: ${c.name}`, async () => {
      const dir = path.join(root, `config-${++caseNo}`);
      const config = c.make(dir);
      const command = c.role === 'agent' ? 'poll-mail' : 'inbox';
      const r = await rds(['--json', '--config', config, command], { cwd: root });
      expect(r.code, `exit code\n${r.stdout}\n${r.stderr}`).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe(c.code);
      expect(r.stderr).not.toMatch(/this is a bug/);
      expect(r.stderr).toContain(c.names ? c.names(dir) : path.resolve(config));
    });
  }
});

// ---- SNMP -------------------------------------------------------------------------------

const int = (value: number): WalkValue => ({ type: 2, value });
const counter = (value: number): WalkValue => ({ type: 65, value });
const c64 = (value: bigint): WalkValue => ({ type: 70, value });
const str = (value: string | Buffer): WalkValue => ({ type: 4, value: Buffer.isBuffer(value) ? value : Buffer.from(value) });
const oid = (value: string): WalkValue => ({ type: 6, value });
const nul: WalkValue = { type: 5, value: null };
const walkOf = (entries: [string, WalkValue][]): Walk => new Map(entries);

/** Every decoder over one walk; throws only what a decoder throws. */
function decodeAll(walk: Walk) {
  const printerIndex = findPrinterIndex(walk);
  const state = decodePrinterState(walk, printerIndex);
  const alerts = decodeAlerts(walk);
  const labels = decodeSubunitLabels(walk, printerIndex);
  return {
    identity: decodeIdentity(walk, printerIndex),
    state,
    alerts,
    faults: deriveFaults(state.errorState, alerts, labels),
    counters: decodeCounters(walk, printerIndex),
    supplies: decodeSupplies(walk),
  };
}

function expectTyped(result: ReturnType<typeof decodeAll>): void {
  expect(Array.isArray(result.state.errorState)).toBe(true);
  for (const name of result.state.errorState) expect(typeof name).toBe('string');
  for (const a of result.alerts) expect(Number.isFinite(a.code)).toBe(true);
  for (const f of result.faults) expect(typeof f.code).toBe('string');
  for (const field of ['total', 'mono', 'colour'] as const) {
    const v = result.counters[field];
    expect(v === undefined || Number.isFinite(v)).toBe(true);
  }
  for (const s of result.supplies) expect(s.percent === undefined || (s.percent >= 0 && s.percent <= 100)).toBe(true);
  for (const v of Object.values(result.identity)) expect(v === undefined || typeof v === 'string').toBe(true);
  // nothing a device says may reach the prototypes every object shares
  const probe = {} as Record<string, unknown>;
  expect([probe.total, probe.mono, probe.colour, probe.print]).toEqual([undefined, undefined, undefined, undefined]);
  expect(Object.keys(Object.prototype)).toEqual([]);
}

const P = '1'; // printer hrDeviceIndex
const SNMP_CASES: { name: string; walk: () => Walk; check?: (r: ReturnType<typeof decodeAll>) => void }[] = [
  {
    name: 'hrDeviceStatus and hrPrinterStatus as OCTET STRINGs',
    walk: () =>
      walkOf([
        [`${HR.deviceStatus}.${P}`, str('running')],
        [`${HR.printerStatus}.${P}`, str('\xff\xfe')],
      ]),
    check: (r) => expect([r.state.deviceStatus, r.state.printerStatus]).toEqual([undefined, undefined]),
  },
  {
    name: 'hrPrinterDetectedErrorState as an INTEGER',
    walk: () => walkOf([[`${HR.printerDetectedErrorState}.${P}`, int(4)]]),
    check: (r) => expect(r.state.errorState).toEqual([]),
  },
  {
    name: 'hrPrinterDetectedErrorState of 4 KiB, every bit set',
    walk: () => walkOf([[`${HR.printerDetectedErrorState}.${P}`, str(Buffer.alloc(4096, 0xff))]]),
    check: (r) => expect(r.state.errorState).toHaveLength(4096 * 8),
  },
  {
    name: 'hrDeviceType as an INTEGER, a NULL and an OID outside the MIB',
    walk: () =>
      walkOf([
        [`${HR.deviceType}.1`, int(5)],
        [`${HR.deviceType}.2`, nul],
        [`${HR.deviceType}.3`, oid('0.0')],
      ]),
    check: (r) => expect(r.identity).toEqual({ sysDescr: undefined, sysObjectId: undefined, model: undefined }),
  },
  {
    name: 'garbage OCTET STRINGs: invalid UTF-8, NULs, control bytes, 1 MiB sysDescr',
    walk: () =>
      walkOf([
        [SYS.descr, str(Buffer.alloc(1024 * 1024, 0x41))],
        [SYS.objectId, str(Buffer.from([0xc3, 0x28, 0x00, 0x1b, 0x5b, 0x33, 0x31, 0x6d]))],
        [`${PRT.generalSerialNumber}.${P}`, str(Buffer.from([0x00, 0x00, 0xff, 0xfe, 0xfd]))],
        [`${HR.deviceDescr}.${P}`, str(Buffer.from([0xe2, 0x82]))],
      ]),
    check: (r) => expect(typeof r.identity.serial).toBe('string'),
  },
  {
    name: 'prtAlertTable with OCTET STRING codes, Counter64 severities and out-of-range groups',
    walk: () =>
      walkOf([
        [`${PRT.alertCode}.${P}.1`, str('jam')],
        [`${PRT.alertCode}.${P}.2`, int(8)],
        [`${PRT.alertSeverityLevel}.${P}.2`, c64(3n)],
        [`${PRT.alertGroup}.${P}.2`, int(-2_147_483_648)],
        [`${PRT.alertGroupIndex}.${P}.2`, c64(2n ** 63n)],
        [`${PRT.alertCode}.${P}.3`, int(2_147_483_647)],
        [`${PRT.alertDescription}.${P}.3`, str(Buffer.from([0xff, 0x00]))],
      ]),
    check: (r) => expect(r.alerts.map((a) => a.code)).toEqual([8, 2_147_483_647]),
  },
  {
    name: 'a huge alert table (20,000 rows) with odd indexes',
    walk: () => {
      const entries: [string, WalkValue][] = [];
      for (let i = 0; i < 20_000; i++) {
        entries.push([`${PRT.alertCode}.${P}.${i}`, int(i % 2 ? 8 : 13)], [`${PRT.alertGroup}.${P}.${i}`, int(i % 2 ? 13 : 8)]);
        entries.push([`${PRT.alertGroupIndex}.${P}.${i}`, int(i)]);
      }
      entries.push([`${PRT.alertCode}.x.y`, int(8)], [`${PRT.alertCode}.${P}.1.2.3.4.5.6.7.8.9`, int(3)]);
      return walkOf(entries);
    },
    check: (r) => expect(r.alerts.length).toBe(20_002),
  },
  {
    name: 'supplies: Counter64 beyond 2^53, max 0, negative levels, OCTET STRING types',
    walk: () =>
      walkOf([
        [`${PRT.suppliesLevel}.${P}.1`, c64(2n ** 64n - 1n)],
        [`${PRT.suppliesMaxCapacity}.${P}.1`, int(100)],
        [`${PRT.suppliesLevel}.${P}.2`, int(50)],
        [`${PRT.suppliesMaxCapacity}.${P}.2`, int(0)],
        [`${PRT.suppliesLevel}.${P}.3`, int(-7)],
        [`${PRT.suppliesType}.${P}.3`, str('toner')],
        [`${PRT.suppliesLevel}.${P}.4`, int(5000)],
        [`${PRT.suppliesMaxCapacity}.${P}.4`, int(10)],
        [`${PRT.suppliesClass}.${P}.4`, int(4)],
      ]),
    check: (r) => expect(r.supplies.map((s) => s.percent)).toEqual([undefined, undefined, undefined, 0]),
  },
  {
    name: 'a huge supplies table (10,000 rows)',
    walk: () => walkOf(Array.from({ length: 10_000 }, (_, i): [string, WalkValue] => [`${PRT.suppliesLevel}.${P}.${i}`, int(i)])),
    check: (r) => expect(r.supplies).toHaveLength(10_000),
  },
  {
    name: "PWG media size names '__proto__', 'constructor' and 'toString'",
    walk: () => {
      const entries: [string, WalkValue][] = [];
      ['__proto__', 'constructor', 'toString'].forEach((name, i) => {
        entries.push([`${PWG_IC.mediaUsedSizeName}.1.${i + 1}.3`, str(name)], [`${PWG_IC.mediaUsedTotal}.1.${i + 1}.3`, int(100 + i)]);
      });
      return walkOf(entries);
    },
    check: (r) => {
      expect(Object.keys(r.counters.byPaperSize).sort()).toEqual(['__proto__', 'constructor', 'toString']);
      expect(JSON.parse(JSON.stringify(r.counters.byPaperSize)).toString).toEqual({ total: 102 });
    },
  },
  {
    name: 'PWG counters as OCTET STRINGs and Counter64 beyond 2^53',
    walk: () =>
      walkOf([
        [`${PWG_IC.keyServiceType}.1`, int(3)],
        [`${PWG_IC.impressionTotal}.1.3.3`, str('12345')],
        [`${PWG_IC.impressionMonochrome}.1.3.3`, c64(2n ** 60n)],
        [`${PWG_IC.impressionFullColor}.1.3.3`, int(-5)],
      ]),
  },
  {
    name: 'Sharp counters as Counter64 and OCTET STRINGs, labels of garbage',
    walk: () =>
      walkOf([
        [`${SHARP.counters}.5.4.61`, c64(1n)],
        [`${SHARP.counters}.5.4.63`, str('99')],
        [`${SHARP.counters}.9.9.99`, counter(7)],
        [`${SHARP.labels}.9.9.99`, str(Buffer.from([0xff, 0xfe, 0x00]))],
      ]),
  },
  {
    name: 'prtMarkerLifeCount as an OCTET STRING and a NULL, an unknown counter unit',
    walk: () =>
      walkOf([
        [`${PRT.markerLifeCount}.${P}.1`, str('1000')],
        [`${PRT.markerLifeCount}.${P}.2`, nul],
        [`${PRT.markerLifeCount}.${P}.3`, counter(4_294_967_295)],
        [`${PRT.markerCounterUnit}.${P}.3`, int(99)],
      ]),
    check: (r) => expect([r.counters.total, r.counters.unit]).toEqual([4_294_967_295, '99']),
  },
];

describe('SNMP answers of the wrong type or size: typed results, never a crash', () => {
  for (const c of SNMP_CASES) {
    hostileCase(`decoders: ${c.name}`, () => {
      const result = decodeAll(c.walk());
      expectTyped(result);
      c.check?.(result);
    });
  }

  const SNMPREC_CASES: [string, string][] = [
    ['a line without tags', '1.3.6.1.2.1.1.1.0 just text'],
    ['an OID with letters', '1.3.six.1|4|x'],
    ['an odd number of hex digits', '1.3.6.1.2.1.1.1.0|4x|abc'],
    ['an unknown tag', '1.3.6.1.2.1.1.1.0|99|x'],
    ['an INTEGER that is text', '1.3.6.1.2.1.25.3.2.1.5.1|2|running'],
    ['a negative Counter64', '1.3.6.1.2.1.43.10.2.1.4.1.1|70|-1'],
  ];
  for (const [name, text] of SNMPREC_CASES) {
    hostileCase(`snmprec: ${name} → ParseError with its line`, () => {
      let error: unknown;
      try {
        parseSnmprec(`# a walk\n1.3.6.1.2.1.1.5.0|4|printer\n${text}\n`);
      } catch (e) {
        error = e;
      }
      expect(isRdsError(error)).toBe(true);
      expect(error).toBeInstanceOf(ParseError);
      expect((error as ParseError).line).toBe(3);
    });
  }
});

// ---- mail URLs given to rds init --------------------------------------------------------

// The password pieces are distinctive tokens: none may appear in the text or --json output.
const SECRET_PIECES = ['Hunt3r', 'Tw0pw'];
const INIT_URL_CASES: { name: string; option: '--smtp' | '--imap'; url: string }[] = [
  { name: 'a raw "#" in the password', option: '--smtp', url: 'smtp://u:Hunt3r#Tw0pw@mail.example.com' },
  { name: 'a raw "/" in the password', option: '--smtp', url: 'smtps://u:Hunt3r/Tw0pw@mail.example.com' },
  { name: 'a raw "?" in the password', option: '--imap', url: 'imaps://u:Hunt3r?Tw0pw@mail.example.com' },
  { name: 'a port out of range', option: '--imap', url: 'imap://u:Hunt3rTw0pw@mail.example.com:99999' },
  { name: 'no "//" after the scheme', option: '--smtp', url: 'smtp:u:Hunt3rTw0pw@mail.example.com' },
  { name: 'no scheme at all', option: '--smtp', url: 'u:Hunt3rTw0pw@mail.example.com' },
  { name: 'a malformed %-escape in the password', option: '--imap', url: 'imap://u:Hunt3r%zzTw0pw@mail.example.com' },
  { name: 'an IMAP URL given to --smtp', option: '--smtp', url: 'imaps://u:Hunt3rTw0pw@mail.example.com' },
  { name: 'an SMTP URL given to --imap', option: '--imap', url: 'smtps://u:Hunt3rTw0pw@mail.example.com' },
];

describe('rds init: a bad mail URL is refused before anything is written, without its password', () => {
  for (const c of INIT_URL_CASES) {
    for (const json of [false, true]) {
      hostileCase(`MAIL_URL_INVALID: ${c.option} with ${c.name}${json ? ' (--json)' : ''}`, async () => {
        const dir = path.join(root, `init-url-${++caseNo}`);
        const good = `maildir://${path.join(root, 'mail')}`;
        const urls = { '--smtp': c.option === '--smtp' ? c.url : good, '--imap': c.option === '--imap' ? c.url : good };
        const args = ['init', '--role', 'host', '--id', 'H', '--address', 'h@example.com', '--dir', dir, ...Object.entries(urls).flat()];
        const r = await rds(json ? ['--json', ...args] : args, { cwd: root });
        expect(r.code, `exit code\n${r.stdout}\n${r.stderr}`).toBe(2);
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(c.option);
        if (json) expect(JSON.parse(r.stdout).error.code).toBe('MAIL_URL_INVALID');
        for (const piece of SECRET_PIECES) expect(`${r.stdout}${r.stderr}`).not.toContain(piece);
        expect(fs.existsSync(dir)).toBe(false); // no config, no keys, no state
      });
    }
  }
});
