// Hostile mail to an agent, through the real binary (`rds poll-mail`) on the embedded
// maildir:// backend: each case drops one crafted mail into the agent's Maildir and checks
// the distinct reason code (--json and the quarantine table), exit 4, that the mail moved
// to the rds-quarantine folder (not lost, not left in the inbox), and that nothing ran:
// every update mail carries a real package whose install script writes a marker file
// outside the stage, and no reply goes out unless the case says so (a refused update is
// reported to the host as 'refused'). The last tests deliver a valid update (the marker
// appears: the mechanism works) and then replay it.
import fs from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL, type RefusalCode } from '../../src/core/errors.js';
import {
  type AgentNode,
  currentRelease,
  ensureBuilt,
  type HostNode,
  initAgent,
  initHost,
  rds,
  rdsExpect,
  tempDir,
  wrapForAgent,
  writeScript,
} from '../support/cli.js';
import {
  craftTarGz,
  dropMail,
  expectAbsent,
  freshKey,
  hostileTally,
  maildirCounts,
  type PayloadInput,
  payload,
  privateKeyOf,
  publicKeyOf,
  quarantineRows,
  type RawAttachment,
  rawMail,
  seal,
  sign,
  tamperedSignature,
  unsignedMessage,
} from './helpers.js';

const { hostileCase } = hostileTally('agent-mail');
const HOST_ADDRESS = 'host@example.com';

let root: string;
let mailRoot: string;
let host: HostNode;
let A: AgentNode;
let B: AgentNode;
let marker: string;
let hostKey: openpgp.PrivateKey;
let agentBKey: openpgp.PrivateKey;
let rogueKey: openpgp.PrivateKey;
let pkgForA: Buffer;
let pkgForB: Buffer;
let processedId: string;
let processedRaw: Buffer;
let controlRaw: Buffer;

const addressOf = (agent: AgentNode) => `${agent.id.toLowerCase()}@example.com`;

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-hostile-mail-');
  mailRoot = path.join(root, 'mail');
  host = await initHost(root);
  A = await initAgent(root, host, { id: 'AGENTA' });
  B = await initAgent(root, host, { id: 'AGENTB' });
  marker = path.join(root, 'EXECUTED');
  const script = writeScript(
    path.join(root, 'install.sh'),
    `echo "ran $RDS_TARGET_VERSION" >> '${marker}'\ncp -R "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"`,
  );
  fs.writeFileSync(path.join(root, 'main.cgi'), 'main v1.0.01\n');
  const pkg = path.join(root, 'update.rdsu');
  await rdsExpect(
    0,
    [
      '--config',
      host.config,
      'pack-update',
      '--software-version',
      '1.0.02-0',
      '--script',
      script,
      '--module',
      `main.cgi=1.0.01:${path.join(root, 'main.cgi')}`,
      '-o',
      pkg,
    ],
    { cwd: root },
  );
  pkgForA = fs.readFileSync(await wrapForAgent(host, pkg, A.publicKeyFile));
  pkgForB = fs.readFileSync(await wrapForAgent(host, pkg, B.publicKeyFile));
  hostKey = await privateKeyOf(host.keyFile);
  agentBKey = await privateKeyOf(path.join(B.dir, 'keys', 'private.asc'));
  rogueKey = await freshKey('HOST');
  // one command processed for real, for the replay case
  const p = payload({ type: 'version-request', to: [A.id] });
  processedId = p.id as string;
  processedRaw = rawMail({ from: HOST_ADDRESS, to: addressOf(A), payloadAsc: await sign(p, hostKey) });
  dropMail(mailRoot, addressOf(A), processedRaw);
  const first = await rdsExpect(0, ['--json', '--config', A.config, 'poll-mail'], { cwd: root });
  expect(JSON.parse(first.stdout).processed).toHaveLength(1);
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface HostMail {
  agent?: AgentNode;
  /** payload fields over the default: an update for `agent` announcing 1.0.02-0 */
  p?: PayloadInput;
  /** change the payload object before it is signed */
  mutate?: (p: Record<string, unknown>) => void;
  /** payload.asc as given (instead of the signed payload) */
  payloadAsc?: string;
  noPayload?: boolean;
  key?: openpgp.PrivateKey;
  from?: string | string[];
  /** update.rdsu; null: none */
  pkg?: Buffer | null;
  attachments?: RawAttachment[];
  headers?: string[];
  nest?: number;
}

function updatePayload(agent: AgentNode, p: PayloadInput = {}): Record<string, unknown> {
  return payload({ type: 'update', to: [agent.id], body: { rolloutId: 'R-hostile', softwareVersion: '1.0.02-0' }, ...p });
}

async function hostMail(o: HostMail = {}): Promise<Buffer> {
  const agent = o.agent ?? A;
  const p = updatePayload(agent, o.p);
  o.mutate?.(p);
  const payloadAsc = o.noPayload ? undefined : (o.payloadAsc ?? (await sign(p, o.key ?? hostKey)));
  const pkg = o.pkg === undefined ? (agent === A ? pkgForA : pkgForB) : o.pkg;
  return rawMail({
    from: o.from ?? HOST_ADDRESS,
    to: addressOf(agent),
    ...(payloadAsc !== undefined ? { payloadAsc } : {}),
    attachments: [...(pkg ? [{ filename: 'update.rdsu', content: pkg }] : []), ...(o.attachments ?? [])],
    ...(o.headers ? { headers: o.headers } : {}),
    ...(o.nest ? { nest: o.nest } : {}),
  });
}

/** A payload's JSON text with `bytes` spliced in where `@@` stands (for invalid UTF-8). */
function withBytes(p: Record<string, unknown>, bytes: number[]): Buffer {
  const [before, after] = JSON.stringify(p).split('@@') as [string, string];
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

interface MailCase {
  name: string;
  code: RefusalCode;
  mail: () => Promise<Buffer>;
  /** the agent it is delivered to (default A) */
  agent?: () => AgentNode;
  /** replies the agent sends (a refused update is reported to the host) */
  replies?: number;
}

const cases: MailCase[] = [
  // ---- envelope and signature
  {
    name: 'forged From (not the host address), signed by the host',
    code: REFUSAL.SENDER_MISMATCH,
    mail: () => hostMail({ from: 'evil@attacker.test' }),
  },
  {
    name: "forged From whose display name is the host's address",
    code: REFUSAL.SENDER_MISMATCH,
    mail: () => hostMail({ from: '"host@example.com" <evil@attacker.test>' }),
  },
  { name: 'no signature (no payload.asc at all)', code: REFUSAL.NOT_SIGNED, mail: () => hostMail({ noPayload: true }) },
  {
    name: 'payload.asc is plain JSON, not OpenPGP',
    code: REFUSAL.NOT_SIGNED,
    mail: async () => hostMail({ payloadAsc: JSON.stringify(updatePayload(A)) }),
  },
  {
    name: 'payload.asc is armored garbage',
    code: REFUSAL.NOT_SIGNED,
    mail: async () =>
      hostMail({ payloadAsc: '-----BEGIN PGP MESSAGE-----\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n-----END PGP MESSAGE-----\n' }),
  },
  {
    name: 'payload.asc is an OpenPGP message without a signature',
    code: REFUSAL.NOT_SIGNED,
    mail: async () => hostMail({ payloadAsc: await unsignedMessage(updatePayload(A)) }),
  },
  {
    name: 'bad signature: one byte of the signed payload changed',
    code: REFUSAL.BAD_SIGNATURE,
    mail: async () => hostMail({ payloadAsc: await tamperedSignature(updatePayload(A), hostKey, 'R-hostile', 'R-hostilf') }),
  },
  { name: 'signed by an unknown key', code: REFUSAL.UNKNOWN_KEY, mail: () => hostMail({ key: rogueKey }) },
  { name: "another agent's key posing as the host", code: REFUSAL.UNKNOWN_KEY, mail: () => hostMail({ key: agentBKey }) },
  {
    name: 'a second payload.asc signed by an unknown key',
    code: REFUSAL.MALFORMED_MAIL,
    mail: async () => hostMail({ attachments: [{ filename: 'payload.asc', content: await sign(updatePayload(A), rogueKey) }] }),
  },
  // ---- freshness and addressing
  {
    name: 'replayed command id (the same mail again)',
    code: REFUSAL.REPLAYED,
    mail: async () => processedRaw,
  },
  {
    name: 'replayed command id on a new update mail',
    code: REFUSAL.REPLAYED,
    mail: () => hostMail({ p: { id: processedId } }),
  },
  {
    name: 'expired (issued three days ago, valid for one)',
    code: REFUSAL.EXPIRED,
    mail: () => hostMail({ p: { issuedAt: new Date(Date.now() - 3 * 86_400_000), ttlMs: 86_400_000 } }),
  },
  {
    name: 'issued one hour in the future (skew allowance 5 min)',
    code: REFUSAL.FROM_FUTURE,
    mail: () => hostMail({ p: { issuedAt: new Date(Date.now() + 3_600_000) } }),
  },
  {
    name: 'expires before it was issued',
    code: REFUSAL.MALFORMED,
    mail: () => hostMail({ mutate: (p) => (p.expiresAt = new Date(Date.now() - 60_000).toISOString()) }),
  },
  { name: 'addressed to another agent', code: REFUSAL.NOT_FOR_ME, mail: () => hostMail({ p: { to: ['AGENTB'] }, pkg: null }) },
  { name: 'addressed to nobody known', code: REFUSAL.NOT_FOR_ME, mail: () => hostMail({ p: { to: ['agenta', 'AGENTA '] } }) },
  { name: "payload's sender id is not the host's", code: REFUSAL.SENDER_ID_MISMATCH, mail: () => hostMail({ p: { from: 'AGENTB' } }) },
  // ---- payload shape
  { name: 'unknown type', code: REFUSAL.UNKNOWN_TYPE, mail: () => hostMail({ p: { type: 'self-destruct' } }) },
  {
    name: 'malformed JSON (cut short)',
    code: REFUSAL.MALFORMED,
    mail: async () => hostMail({ payloadAsc: await sign(JSON.stringify(updatePayload(A)).slice(0, 40), hostKey) }),
  },
  { name: 'JSON, but an array', code: REFUSAL.MALFORMED, mail: async () => hostMail({ payloadAsc: await sign('[1,2,3]', hostKey) }) },
  { name: 'JSON missing its id', code: REFUSAL.MALFORMED, mail: () => hostMail({ mutate: (p) => delete p.id }) },
  { name: "JSON missing 'to'", code: REFUSAL.MALFORMED, mail: () => hostMail({ mutate: (p) => delete p.to }) },
  { name: "'to' is a string, not a list", code: REFUSAL.MALFORMED, mail: () => hostMail({ mutate: (p) => (p.to = 'AGENTA') }) },
  { name: "'format' is a string", code: REFUSAL.MALFORMED, mail: () => hostMail({ mutate: (p) => (p.format = '1') }) },
  { name: "'issuedAt' is not a date", code: REFUSAL.MALFORMED, mail: () => hostMail({ mutate: (p) => (p.issuedAt = 'yesterday-ish') }) },
  { name: "'body' is null", code: REFUSAL.MALFORMED, mail: () => hostMail({ mutate: (p) => (p.body = null) }) },
  { name: "'id' with path characters", code: REFUSAL.MALFORMED, mail: () => hostMail({ p: { id: '../../etc/passwd' } }) },
  {
    name: 'update body: softwareVersion is a number',
    code: REFUSAL.MALFORMED,
    mail: () => hostMail({ p: { body: { rolloutId: 'R-hostile', softwareVersion: 102 } } }),
  },
  { name: 'unsupported format version (2)', code: REFUSAL.UNSUPPORTED_FORMAT, mail: () => hostMail({ mutate: (p) => (p.format = 2) }) },
  {
    name: 'invalid UTF-8 in the signed payload',
    code: REFUSAL.MALFORMED,
    mail: async () => {
      const p = updatePayload(A, { body: { rolloutId: '@@', softwareVersion: '1.0.02-0' } });
      return hostMail({ payloadAsc: await sign(withBytes(p, [0xc3, 0x28, 0xff]), hostKey) });
    },
  },
  // ---- MIME
  {
    name: 'oversize mail (11 MiB, over maxMessageSize)',
    code: REFUSAL.OVERSIZE,
    mail: () => hostMail({ attachments: [{ filename: 'filler.bin', content: Buffer.alloc(11 * 1024 * 1024, 0x41) }] }),
  },
  { name: 'deeply nested MIME (12 levels)', code: REFUSAL.MALFORMED_MAIL, mail: () => hostMail({ nest: 12 }) },
  {
    name: 'enormous headers (200 KB)',
    code: REFUSAL.MALFORMED_MAIL,
    mail: () => hostMail({ headers: Array.from({ length: 3000 }, (_, i) => `X-Filler-${i}: ${'a'.repeat(60)}`) }),
  },
  {
    name: 'two From addresses in one header',
    code: REFUSAL.MALFORMED_MAIL,
    mail: () => hostMail({ from: 'host@example.com, evil@attacker.test' }),
  },
  {
    name: 'two From header lines (host first)',
    code: REFUSAL.MALFORMED_MAIL,
    mail: () => hostMail({ from: [HOST_ADDRESS, 'evil@attacker.test'] }),
  },
  { name: 'no From header', code: REFUSAL.MALFORMED_MAIL, mail: () => hostMail({ from: [] }) },
  {
    name: 'duplicate attachment names (two update.rdsu)',
    code: REFUSAL.MALFORMED_MAIL,
    mail: () => hostMail({ attachments: [{ filename: 'update.rdsu', content: Buffer.from('second package') }] }),
  },
  // ---- update mails: refused in the handler, reported to the host as 'refused'
  { name: 'update mail without its package', code: REFUSAL.MALFORMED, mail: () => hostMail({ pkg: null }) },
  {
    name: 'mix-and-match: payload for B, package wrapped for A',
    code: REFUSAL.PACKAGE_NOT_FOR_ME,
    agent: () => B,
    mail: () => hostMail({ agent: B, pkg: pkgForA }),
    replies: 1,
  },
  {
    name: "announced version (1.0.09-0) differs from the package's (1.0.02-0)",
    code: REFUSAL.PACKAGE_MISMATCH,
    mail: () => hostMail({ p: { body: { rolloutId: 'R-hostile', softwareVersion: '1.0.09-0' } } }),
    replies: 1,
  },
  {
    name: 'package is not OpenPGP',
    code: REFUSAL.PACKAGE_TAMPERED,
    mail: () => hostMail({ pkg: Buffer.from('not a package at all') }),
    replies: 1,
  },
  {
    name: "package with a '..' entry, validly signed and sealed",
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    mail: async () => {
      const tgz = craftTarGz({ marker, entries: (e) => [...e, { name: 'modules/../../../../escaped-by-mail', body: 'x' }] });
      return hostMail({ pkg: await seal(tgz, await publicKeyOf(A.publicKeyFile), hostKey) });
    },
    replies: 1,
  },
  {
    name: 'package whose install script does not match its hash',
    code: REFUSAL.PACKAGE_HASH_MISMATCH,
    mail: async () => {
      const tgz = craftTarGz({
        marker,
        entries: (e) => e.map((x) => (x.name === 'install.sh' ? { ...x, body: `${String(x.body)}echo extra >> '${marker}'\n` } : x)),
      });
      return hostMail({ pkg: await seal(tgz, await publicKeyOf(A.publicKeyFile), hostKey) });
    },
    replies: 1,
  },
];

async function runMailCase(c: MailCase): Promise<void> {
  const agent = c.agent?.() ?? A;
  const address = addressOf(agent);
  const before = maildirCounts(mailRoot, address);
  const hostBefore = maildirCounts(mailRoot, HOST_ADDRESS).inbox;
  const quarantinedBefore = quarantineRows(agent.stateDir).length;
  const release = currentRelease(agent);
  dropMail(mailRoot, address, await c.mail());
  const r = await rds(['--json', '--config', agent.config, 'poll-mail'], { cwd: root });
  expect(r.code, `exit code\n${r.stdout}\n${r.stderr}`).toBe(4);
  const out = JSON.parse(r.stdout) as { processed: unknown[]; quarantined: { code: string }[] };
  expect(out.quarantined.map((q) => q.code)).toEqual([c.code]);
  expect(out.processed).toEqual([]);
  // recorded in the quarantine table with the same code
  const rows = quarantineRows(agent.stateDir);
  expect(rows).toHaveLength(quarantinedBefore + 1);
  expect(rows.at(-1)?.reason_code).toBe(c.code);
  // moved to rds-quarantine: not lost, not left in the inbox, not marked processed
  const after = maildirCounts(mailRoot, address);
  expect(after).toEqual({ inbox: 0, quarantine: before.quarantine + 1, processed: before.processed });
  // nothing ran
  expectAbsent(marker);
  expect(currentRelease(agent)).toBe(release);
  expect(maildirCounts(mailRoot, HOST_ADDRESS).inbox).toBe(hostBefore + (c.replies ?? 0));
}

describe('hostile mail to an agent (poll-mail, maildir://): exit 4, quarantined, nothing runs', () => {
  for (const c of cases) hostileCase(`${c.code}: ${c.name}`, () => runMailCase(c));

  it('control: a valid update mail installs (the marker appears), so the refusals above were not accidents', async () => {
    const p = updatePayload(A);
    controlRaw = rawMail({
      from: HOST_ADDRESS,
      to: addressOf(A),
      payloadAsc: await sign(p, hostKey),
      attachments: [{ filename: 'update.rdsu', content: pkgForA }],
    });
    dropMail(mailRoot, addressOf(A), controlRaw);
    const r = await rdsExpect(0, ['--json', '--config', A.config, 'poll-mail'], { cwd: root });
    expect(JSON.parse(r.stdout).processed).toEqual([expect.objectContaining({ type: 'update', outcome: 'installed' })]);
    expect(fs.readFileSync(marker, 'utf8')).toBe('ran 1.0.02-0\n');
  });

  hostileCase('REPLAYED: the installed update mail delivered again does not run again', async () => {
    dropMail(mailRoot, addressOf(A), controlRaw);
    const r = await rds(['--json', '--config', A.config, 'poll-mail'], { cwd: root });
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout).quarantined.map((q: { code: string }) => q.code)).toEqual([REFUSAL.REPLAYED]);
    expect(quarantineRows(A.stateDir).at(-1)?.reason_code).toBe(REFUSAL.REPLAYED);
    expect(maildirCounts(mailRoot, addressOf(A)).inbox).toBe(0);
    expect(fs.readFileSync(marker, 'utf8')).toBe('ran 1.0.02-0\n');
  });

  it('every refused mail is still there, in rds-quarantine, with its reason', () => {
    const box = path.join(mailRoot, addressOf(A), '.rds-quarantine');
    const mails = fs.readdirSync(path.join(box, 'cur'));
    const reasons = fs.readdirSync(path.join(box, 'rds-reasons'));
    expect(mails.length).toBe(quarantineRows(A.stateDir).length);
    expect(reasons.length).toBe(mails.length);
  });
});
