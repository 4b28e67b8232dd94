// Hostile mail to the host, through the real binary (`rds inbox`) on the embedded
// maildir:// backend: replies from unregistered agents, signed with the wrong agent's key,
// version reports whose text is malformed or disagrees with itself, fault/counter reports
// with bad fields. Each case checks the distinct reason code (--json and the quarantine
// table), exit 4, the mail moved to rds-quarantine (not lost, not left in the inbox), and
// that nothing was stored or answered: no version report, fault or counter row, no ack.
// Controls first show that the same mails, well formed, are stored and acked.
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL, type RefusalCode } from '../../src/core/errors.js';
import { type AgentNode, ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';
import {
  countRows,
  dropMail,
  hostileTally,
  maildirCounts,
  type PayloadInput,
  payload,
  privateKeyOf,
  quarantineRows,
  queryState,
  rawMail,
  sign,
} from './helpers.js';

const { hostileCase } = hostileTally('host-mail');
const HOST_ADDRESS = 'host@example.com';
const VERSION_TEXT = 'Software Version\t1.0.00-1\n---Modules---\nabcd.exe\t1.0.00\t2002/01/01\n';

let root: string;
let mailRoot: string;
let host: HostNode;
let A: AgentNode;
let B: AgentNode;
let C: AgentNode;
const keys: Record<string, openpgp.PrivateKey> = {};
let controlRaw: Buffer;

const addressOf = (agent: AgentNode) => `${agent.id.toLowerCase()}@example.com`;

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-hostile-host-');
  mailRoot = path.join(root, 'mail');
  host = await initHost(root);
  A = await initAgent(root, host, { id: 'AGENTA' });
  B = await initAgent(root, host, { id: 'AGENTB' });
  C = await initAgent(root, host, { id: 'AGENTC', register: false });
  for (const agent of [A, B, C]) keys[agent.id] = await privateKeyOf(path.join(agent.dir, 'keys', 'private.asc'));
  keys.HOST = await privateKeyOf(host.keyFile);
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface AgentMail {
  agent?: AgentNode;
  from?: string;
  key?: openpgp.PrivateKey;
  p?: PayloadInput;
  body?: Record<string, unknown>;
  noPayload?: boolean;
}

function fault(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: `ev-${Math.random().toString(36).slice(2)}`,
    kind: 'raised',
    deviceId: 'mfp-1',
    code: 'jam',
    subunit: '',
    severity: 'critical',
    source: 'prtAlertCode 8',
    raisedAt: new Date().toISOString(),
    clearedAt: null,
    ...over,
  };
}

function reading(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    readingId: `rd-${Math.random().toString(36).slice(2)}`,
    deviceId: 'mfp-1',
    readAt: new Date().toISOString(),
    serial: 'SN1',
    total: 100,
    mono: 80,
    colour: 20,
    byService: { copy: { total: 40 }, print: { total: 60 } },
    byPaperSize: {},
    supplies: [
      { index: '1', description: 'Black Toner', class: 'consumed', type: 'toner', level: 50, max: 100, levelState: 'known', percent: 50 },
    ],
    flags: [],
    ...over,
  };
}

async function agentMail(o: AgentMail = {}): Promise<Buffer> {
  const agent = o.agent ?? A;
  const p = payload({
    type: 'version-report',
    from: agent.id,
    to: ['HOST'],
    body: o.body ?? { softwareVersion: '1.0.00-1', versionText: VERSION_TEXT },
    ...o.p,
  });
  return rawMail({
    from: o.from ?? addressOf(agent),
    to: HOST_ADDRESS,
    ...(o.noPayload ? {} : { payloadAsc: await sign(p, o.key ?? (keys[agent.id] as openpgp.PrivateKey)) }),
  });
}

const STORES = ['version_reports', 'host_faults', 'host_counters', 'processed_messages'] as const;

function stored(): Record<string, number> {
  return Object.fromEntries(STORES.map((t) => [t, countRows(path.join(host.dir, 'state'), t)]));
}

interface HostCase {
  name: string;
  code: RefusalCode;
  mail: () => Promise<Buffer>;
}

const cases: HostCase[] = [
  // ---- who sent it
  { name: 'a reply from an agent that is not registered', code: REFUSAL.UNKNOWN_SENDER, mail: () => agentMail({ agent: C }) },
  {
    name: 'a registered agent id and key, from an address nobody registered',
    code: REFUSAL.UNKNOWN_SENDER,
    mail: () => agentMail({ from: 'agenta@attacker.test' }),
  },
  { name: "a reply from A's address signed with B's key", code: REFUSAL.UNKNOWN_KEY, mail: () => agentMail({ key: keys.AGENTB }) },
  { name: "a reply from A's address signed with the host's own key", code: REFUSAL.UNKNOWN_KEY, mail: () => agentMail({ key: keys.HOST }) },
  {
    name: "A's key and address, but the payload says it is from B",
    code: REFUSAL.SENDER_ID_MISMATCH,
    mail: () => agentMail({ p: { from: 'AGENTB' } }),
  },
  { name: 'no signed payload at all', code: REFUSAL.NOT_SIGNED, mail: () => agentMail({ noPayload: true }) },
  { name: 'addressed to another host', code: REFUSAL.NOT_FOR_ME, mail: () => agentMail({ p: { to: ['OTHERHOST'] } }) },
  { name: "addressed to every agent ('*'), not to the host", code: REFUSAL.NOT_FOR_ME, mail: () => agentMail({ p: { to: ['*'] } }) },
  {
    name: 'an expired report',
    code: REFUSAL.EXPIRED,
    mail: () => agentMail({ p: { issuedAt: new Date(Date.now() - 10 * 86_400_000), ttlMs: 86_400_000 } }),
  },
  {
    name: 'a type the host does not handle (an agent sending an update)',
    code: REFUSAL.UNKNOWN_TYPE,
    mail: () => agentMail({ p: { type: 'update' } }),
  },
  // ---- version reports
  {
    name: 'version report: malformed text (one space between label and version)',
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ body: { softwareVersion: '1.0.00-1', versionText: 'Software Version 1.0.00-1\n---Modules---\n' } }),
  },
  {
    name: 'version report: text without the Modules heading',
    code: REFUSAL.MALFORMED,
    mail: () =>
      agentMail({ body: { softwareVersion: '1.0.00-1', versionText: 'Software Version\t1.0.00-1\nabcd.exe\t1.0.00\t2002/01/01\n' } }),
  },
  {
    name: 'version report: softwareVersion disagrees with its text',
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ body: { softwareVersion: '1.0.02-0', versionText: VERSION_TEXT } }),
  },
  { name: 'version report: no versionText', code: REFUSAL.MALFORMED, mail: () => agentMail({ body: { softwareVersion: '1.0.00-1' } }) },
  { name: 'version report: versionText is a number', code: REFUSAL.MALFORMED, mail: () => agentMail({ body: { versionText: 102 } }) },
  {
    name: "update result: outcome 'pwned'",
    code: REFUSAL.MALFORMED,
    mail: () =>
      agentMail({
        p: { type: 'update-result' },
        body: { rolloutId: 'R1', outcome: 'pwned', softwareVersion: '1.0.00-1', versionText: VERSION_TEXT },
      }),
  },
  {
    name: "update result: the version 'nope' breaks the version grammar",
    code: REFUSAL.BAD_VERSION,
    mail: () =>
      agentMail({
        p: { type: 'update-result' },
        body: { rolloutId: 'R1', outcome: 'installed', versionText: 'Software Version\tnope\n---Modules---\n' },
      }),
  },
  // ---- untrusted text refused at the door (issue 9 part 1): its own reason codes
  {
    name: 'version report: an ESC sequence in the version free part (1.0.00-\x1b[2J)',
    code: REFUSAL.BAD_VERSION,
    mail: () =>
      agentMail({ body: { softwareVersion: '1.0.00-\x1b[2J', versionText: 'Software Version\t1.0.00-\x1b[2J\n---Modules---\n' } }),
  },
  {
    name: 'version report: a 65-character free part',
    code: REFUSAL.BAD_VERSION,
    mail: () => agentMail({ body: { versionText: `Software Version\t1.0.00-${'x'.repeat(65)}\n---Modules---\n` } }),
  },
  {
    name: 'version report: a C1 control (U+009B, 8-bit CSI) in a module version',
    code: REFUSAL.BAD_VERSION,
    mail: () => agentMail({ body: { versionText: 'Software Version\t1.0.00-1\n---Modules---\nabcd.exe\t1.0.00\u009b31m\t2002/01/01\n' } }),
  },
  {
    name: 'version report: a bidi override (U+202E) in a module name',
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ body: { versionText: 'Software Version\t1.0.00-1\n---Modules---\nabcd\u202eexe.txt\t1.0.00\t2002/01/01\n' } }),
  },
  {
    name: 'fault report: an ESC sequence in the fault code',
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ code: 'jam\x1b]0;pwned\x07' })] } }),
  },
  {
    name: 'fault report: a newline in the device id (a forged second line)',
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ deviceId: 'mfp-1\nHOST ok' })] } }),
  },
  {
    name: 'fault report: an isolate (U+2066) in the subunit',
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ subunit: 'tray \u2066 1' })] } }),
  },
  {
    name: "fault report: severity 'apocalyptic'",
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ severity: 'apocalyptic' })] } }),
  },
  {
    name: "fault report: raisedAt 'yesterday' (not ISO-8601)",
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ raisedAt: 'yesterday' })] } }),
  },
  {
    name: 'fault report: raisedAt in the year 9999',
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ raisedAt: '9999-01-01T00:00:00Z' })] } }),
  },
  {
    name: 'fault report: a source text of 2,000 characters',
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ source: 'x'.repeat(2000) })] } }),
  },
  {
    name: 'counter report: a negative total',
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'counter-report' }, body: { status: 'ok', readings: [reading({ total: -5 })] } }),
  },
  {
    name: 'counter report: a total of 1e308 (not a safe integer)',
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'counter-report' }, body: { status: 'ok', readings: [reading({ total: 1e308 })] } }),
  },
  {
    name: 'counter report: a serial with an ESC sequence',
    code: REFUSAL.BAD_FIELD,
    mail: () => agentMail({ p: { type: 'counter-report' }, body: { status: 'ok', readings: [reading({ serial: '\x1b[31mSN1' })] } }),
  },
  {
    name: 'counter report: a counter name with a CR (print\rinjected)',
    code: REFUSAL.BAD_FIELD,
    mail: () =>
      agentMail({
        p: { type: 'counter-report' },
        body: { status: 'ok', readings: [reading({ byService: { 'print\rinjected': { total: 1 } } })] },
      }),
  },
  {
    name: 'counter report: byService.copy is a string, not a counter set',
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ p: { type: 'counter-report' }, body: { status: 'ok', readings: [reading({ byService: { copy: 'lots' } })] } }),
  },
  {
    name: "counter report: readAt '2026-13-45T99:00:00Z'",
    code: REFUSAL.BAD_FIELD,
    mail: () =>
      agentMail({ p: { type: 'counter-report' }, body: { status: 'ok', readings: [reading({ readAt: '2026-13-45T99:00:00Z' })] } }),
  },
  // ---- fault reports
  {
    name: 'fault report: reports is not a list',
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: 'jam' } }),
  },
  {
    name: "fault report: kind 'exploded'",
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ kind: 'exploded' })] } }),
  },
  {
    name: 'fault report: raisedAt is a number',
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ raisedAt: 1_700_000_000 })] } }),
  },
  {
    name: 'fault report: one good report and one without a deviceId',
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault(), fault({ deviceId: undefined })] } }),
  },
  {
    name: 'fault report: clearedAt is true',
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ clearedAt: true })] } }),
  },
  {
    name: 'fault report: source is an object',
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ p: { type: 'fault-report' }, body: { reports: [fault({ source: { oid: '1.3.6' } })] } }),
  },
  // ---- counter reports
  {
    name: 'counter report: readings is not a list',
    code: REFUSAL.MALFORMED,
    mail: () => agentMail({ p: { type: 'counter-report' }, body: { status: 'ok', readings: { total: 1 } } }),
  },
  {
    name: 'counter report: a reading without its id',
    code: REFUSAL.MALFORMED,
    mail: () =>
      agentMail({
        p: { type: 'counter-report' },
        body: { status: 'ok', readings: [{ deviceId: 'mfp-1', readAt: new Date().toISOString() }] },
      }),
  },
];

async function runHostCase(c: HostCase): Promise<void> {
  const before = maildirCounts(mailRoot, HOST_ADDRESS);
  const storedBefore = stored();
  const agentInboxes = [A, B, C].map((a) => maildirCounts(mailRoot, addressOf(a)).inbox);
  const quarantinedBefore = quarantineRows(path.join(host.dir, 'state')).length;
  dropMail(mailRoot, HOST_ADDRESS, await c.mail());
  const r = await rds(['--json', '--config', host.config, 'inbox'], { cwd: root });
  expect(r.code, `exit code\n${r.stdout}\n${r.stderr}`).toBe(4);
  const out = JSON.parse(r.stdout) as { processed: unknown[]; quarantined: { code: string }[] };
  expect(out.quarantined.map((q) => q.code)).toEqual([c.code]);
  expect(out.processed).toEqual([]);
  const rows = quarantineRows(path.join(host.dir, 'state'));
  expect(rows).toHaveLength(quarantinedBefore + 1);
  expect(rows.at(-1)?.reason_code).toBe(c.code);
  expect(maildirCounts(mailRoot, HOST_ADDRESS)).toEqual({ inbox: 0, quarantine: before.quarantine + 1, processed: before.processed });
  // nothing stored, nothing answered
  expect(stored()).toEqual(storedBefore);
  expect([A, B, C].map((a) => maildirCounts(mailRoot, addressOf(a)).inbox)).toEqual(agentInboxes);
}

describe('hostile mail to the host (inbox, maildir://): exit 4, quarantined, nothing stored or acked', () => {
  it('controls: a good version report is stored, a good fault report stored and acked', async () => {
    controlRaw = await agentMail();
    dropMail(mailRoot, HOST_ADDRESS, controlRaw);
    dropMail(mailRoot, HOST_ADDRESS, await agentMail({ p: { type: 'fault-report' }, body: { reports: [fault()] } }));
    const r = await rdsExpect(0, ['--json', '--config', host.config, 'inbox'], { cwd: root });
    expect(
      JSON.parse(r.stdout)
        .processed.map((p: { type: string }) => p.type)
        .sort(),
    ).toEqual(['fault-report', 'version-report']);
    expect(countRows(path.join(host.dir, 'state'), 'version_reports')).toBe(1);
    expect(countRows(path.join(host.dir, 'state'), 'host_faults')).toBe(1);
    expect(maildirCounts(mailRoot, addressOf(A)).inbox).toBe(1); // the ack
  });

  for (const c of cases) hostileCase(`${c.code}: ${c.name}`, () => runHostCase(c));

  hostileCase('REPLAYED: the stored version report delivered again', () =>
    runHostCase({ name: 'replay', code: REFUSAL.REPLAYED, mail: async () => controlRaw }),
  );
});

// A reply settles a request only when it comes from the agent the request was sent to: B's
// signed report naming A's request is stored as B's report, but A's request stays open.
describe('replies: only the agent a request was sent to can settle it', () => {
  const answeredAt = (id: string) =>
    queryState<{ answered_at: string | null }>(path.join(host.dir, 'state'), 'SELECT answered_at FROM requests WHERE id = ?', id)[0]
      ?.answered_at;

  for (const type of ['version-request', 'counter-request'] as const) {
    hostileCase(`${type} to A, answered by B: A's request stays open; A's own reply settles it`, async () => {
      const command = type === 'version-request' ? 'request-versions' : 'request-counters';
      const asked = await rdsExpect(0, ['--json', '--config', host.config, command, '--agents', 'AGENTA'], { cwd: root });
      const requestId = (JSON.parse(asked.stdout) as { requested: { agentId: string; requestId: string }[] }).requested[0]?.requestId;
      expect(requestId).toBeTypeOf('string');
      const reply = (agent: AgentNode) =>
        type === 'version-request'
          ? agentMail({ agent, p: { inReplyTo: requestId } })
          : agentMail({ agent, p: { type: 'counter-report', inReplyTo: requestId }, body: { status: 'ok', readings: [] } });

      dropMail(mailRoot, HOST_ADDRESS, await reply(B));
      const byB = await rdsExpect(0, ['--json', '--config', host.config, 'inbox'], { cwd: root });
      expect((JSON.parse(byB.stdout) as { processed: unknown[] }).processed).toHaveLength(1); // stored as B's, not refused
      expect(answeredAt(requestId as string)).toBeNull();

      dropMail(mailRoot, HOST_ADDRESS, await reply(A));
      await rdsExpect(0, ['--json', '--config', host.config, 'inbox'], { cwd: root });
      expect(answeredAt(requestId as string)).toBeTypeOf('string');
    });
  }
});
