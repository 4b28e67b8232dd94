// Hostile update packages through the real binary (`rds apply-update FILE`): archives
// written byte by byte (helpers.ts tarBytes: what node-tar would never create), signed by
// the host and encrypted to the agent exactly as pack-update + push-all do, unless the case
// is about the signature or the encryption. Each case checks the distinct reason code
// (--json), exit 4, that its install script (which appends to a marker file outside the
// stage) never ran, that nothing escaped the stage, that no stage is left over, and that
// the install root did not change. A control first proves the crafted packages install.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL, type RefusalCode } from '../../src/core/errors.js';
import {
  type AgentNode,
  ensureBuilt,
  type HostNode,
  initAgent,
  initHost,
  rds,
  rdsExpect,
  stageLeftovers,
  tempDir,
} from '../support/cli.js';
import {
  type CraftInput,
  craftTarGz,
  expectAbsent,
  freshKey,
  hostileTally,
  listTree,
  type PayloadInput,
  payload,
  privateKeyOf,
  publicKeyOf,
  rawMail,
  seal,
  sha256,
  sign,
  type TarEntry,
} from './helpers.js';

const { hostileCase } = hostileTally('packages');

let root: string;
let host: HostNode;
let P: AgentNode;
let Q: AgentNode;
let hostKey: openpgp.PrivateKey;
let rogueKey: openpgp.PrivateKey;
let agentPKey: openpgp.PrivateKey;
let pPub: openpgp.PublicKey;
let qPub: openpgp.PublicKey;
let markers: string;
let n = 0;
const absoluteTarget = `/tmp/rds-hostile-absolute-${process.pid}-${Date.now()}`;
/** the control package's id: installed first, then sent again by cases */
const CONTROL_ID = randomUUID();
/** ~2 MB of text: deflate codes it byte by byte, so a flipped byte in the middle garbles the stream there */
const bigText = randomBytes(1_500_000).toString('base64');

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-hostile-pkg-');
  host = await initHost(root);
  P = await initAgent(root, host, { id: 'AGENTP' });
  Q = await initAgent(root, host, { id: 'AGENTQ' });
  hostKey = await privateKeyOf(host.keyFile);
  agentPKey = await privateKeyOf(path.join(P.dir, 'keys', 'private.asc'));
  rogueKey = await freshKey('HOST');
  pPub = await publicKeyOf(P.publicKeyFile);
  qPub = await publicKeyOf(Q.publicKeyFile);
  markers = path.join(root, 'markers');
  fs.mkdirSync(markers);
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface PkgCase {
  name: string;
  code: RefusalCode;
  /** the .rdsu bytes; `marker` is where this case's install script would write */
  make: (marker: string) => Promise<Buffer>;
  /** absolute paths that must not exist afterwards */
  escapes?: string[];
}

/** A crafted package, sealed by the host for agent P unless told otherwise. */
async function sealed(
  marker: string,
  craft: Omit<CraftInput, 'marker'> = {},
  o: { to?: openpgp.PublicKey; signer?: openpgp.PrivateKey | null } = {},
): Promise<Buffer> {
  return seal(craftTarGz({ marker, ...craft }), o.to ?? pPub, o.signer === undefined ? hostKey : o.signer);
}

const add = (...extra: TarEntry[]) => ({ entries: (e: TarEntry[]) => [...e, ...extra] });

/** The honest entries plus one more file, listed in the manifest with its right hash. */
function listedExtra(entry: TarEntry): Omit<CraftInput, 'marker'> {
  return {
    manifest: (m) => {
      m.files[entry.name] = sha256(entry.body ?? '');
    },
    ...add(entry),
  };
}

const truncate = (bytes: Buffer, at: number) => bytes.subarray(0, at < 0 ? bytes.length + at : at);

/** The honest archive with a 2 MB module, one byte of its gzip stream flipped at 70% (inside the module's data). */
function damagedTarGz(marker: string): Buffer {
  const tgz = Buffer.from(craftTarGz({ marker, ...listedExtra({ name: 'modules/big.txt', body: bigText }) }));
  const at = Math.floor(tgz.length * 0.7);
  tgz[at] = (tgz[at] as number) ^ 0x55;
  return tgz;
}

const cases: PkgCase[] = [
  // ---- paths
  {
    name: "a '..' path climbing out of the stage",
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: 'modules/../../../../../escaped-dotdot', body: 'x' })),
  },
  {
    name: "a path starting with '..'",
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: '../escaped-lead', body: 'x' })),
  },
  {
    name: "a Windows-style '..\\..' path",
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: 'modules\\..\\..\\..\\escaped-backslash', body: 'x' })),
  },
  {
    name: 'an absolute path',
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: absoluteTarget, body: 'x' })),
    escapes: [absoluteTarget],
  },
  {
    name: "a PAX header overriding the path with '..'",
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: 'modules/harmless', body: 'x', pax: { path: '../../../../escaped-pax' } })),
  },
  {
    name: "a GNU long name with '..'",
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) =>
      sealed(
        m,
        add({ name: 'modules/short', body: 'x', longName: `modules/${'a/'.repeat(60)}../../../../../../../../../../escaped-long` }),
      ),
  },
  {
    name: "a directory entry named '..'",
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: 'modules/..', type: '5' })),
  },
  // ---- links
  {
    name: 'a symlink to an absolute path (/etc)',
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: 'modules/etc', type: '2', linkname: '/etc' })),
  },
  {
    name: "a symlink climbing out with '..'",
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: 'modules/up', type: '2', linkname: '../../../../..' })),
  },
  {
    name: 'a file written through an (inner) symlink',
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: 'modules/link', type: '2', linkname: 'sub' }, { name: 'modules/link/evil', body: 'x' })),
  },
  {
    name: 'a file beneath a regular file',
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: (m) => sealed(m, add({ name: 'install.sh/evil', body: 'x' })),
  },
  {
    name: 'a hardlink to /etc/passwd',
    code: REFUSAL.PACKAGE_UNSAFE_ENTRY,
    make: (m) => sealed(m, add({ name: 'modules/passwd', type: '1', linkname: '/etc/passwd' })),
  },
  {
    name: 'a hardlink to a file of the package',
    code: REFUSAL.PACKAGE_UNSAFE_ENTRY,
    make: (m) => sealed(m, add({ name: 'modules/again', type: '1', linkname: 'install.sh' })),
  },
  // ---- special files
  { name: 'a character device', code: REFUSAL.PACKAGE_UNSAFE_ENTRY, make: (m) => sealed(m, add({ name: 'modules/null', type: '3' })) },
  { name: 'a block device', code: REFUSAL.PACKAGE_UNSAFE_ENTRY, make: (m) => sealed(m, add({ name: 'modules/sda', type: '4' })) },
  { name: 'a fifo', code: REFUSAL.PACKAGE_UNSAFE_ENTRY, make: (m) => sealed(m, add({ name: 'modules/pipe', type: '6' })) },
  // ---- duplicates and the manifest
  {
    name: 'the same entry twice',
    code: REFUSAL.PACKAGE_DUPLICATE_ENTRY,
    make: (m) => sealed(m, add({ name: 'modules/main.cgi', body: 'main v1.0.01\n' })),
  },
  {
    name: "the same entry twice, once spelled './modules//main.cgi'",
    code: REFUSAL.PACKAGE_DUPLICATE_ENTRY,
    make: (m) => sealed(m, add({ name: './modules//main.cgi', body: 'other\n' })),
  },
  {
    name: 'a second manifest.json (replacing the checked one)',
    code: REFUSAL.PACKAGE_DUPLICATE_ENTRY,
    make: (m) => sealed(m, add({ name: 'manifest.json', body: '{}' })),
  },
  {
    name: 'a hash mismatch (script changed after hashing)',
    code: REFUSAL.PACKAGE_HASH_MISMATCH,
    make: (m) =>
      sealed(m, {
        entries: (e) => e.map((x) => (x.name === 'install.sh' ? { ...x, body: `#!/bin/sh\necho pwned >> '${m}'\n` } : x)),
      }),
  },
  {
    name: 'the manifest lists a file the package does not hold',
    code: REFUSAL.PACKAGE_MANIFEST_INVALID,
    make: (m) => sealed(m, { manifest: (x) => (x.files['modules/ghost.bin'] = sha256('ghost')) }),
  },
  {
    name: 'a file the manifest does not list',
    code: REFUSAL.PACKAGE_MANIFEST_INVALID,
    make: (m) => sealed(m, add({ name: 'modules/stowaway.sh', body: '#!/bin/sh\n' })),
  },
  {
    name: 'manifest.json is not the first entry',
    code: REFUSAL.PACKAGE_MANIFEST_INVALID,
    make: (m) => sealed(m, { entries: (e) => [...e.slice(1), e[0] as TarEntry] }),
  },
  {
    name: 'manifest.json is not JSON',
    code: REFUSAL.PACKAGE_MANIFEST_INVALID,
    make: (m) => sealed(m, { manifestText: (t) => t.slice(0, 30) }),
  },
  {
    name: "the manifest's script is a path ('../x.sh')",
    code: REFUSAL.PACKAGE_MANIFEST_INVALID,
    make: (m) => sealed(m, { manifest: (x) => (x.script = '../x.sh') }),
  },
  {
    name: "the manifest's softwareVersion is not a version",
    code: REFUSAL.PACKAGE_MANIFEST_INVALID,
    make: (m) => sealed(m, { manifest: (x) => (x.softwareVersion = '1.0; rm -rf /') }),
  },
  // ---- file modes (the manifest's `modes`, applied at extract)
  ...(
    [
      ['a setuid module', '4755'],
      ['a setgid module', '2755'],
      ['a sticky module', '1755'],
      ['a group-writable module', '0775'],
      ['a world-writable module', '0757'],
    ] as const
  ).map(
    ([what, mode]): PkgCase => ({
      name: `the manifest gives ${what} (mode ${mode})`,
      code: REFUSAL.PACKAGE_MANIFEST_INVALID,
      make: (m) => sealed(m, { manifest: (x) => (x.modes = { 'install.sh': '0755', 'modules/main.cgi': mode }) }),
    }),
  ),
  {
    name: 'the manifest gives a mode to a file the package does not hold',
    code: REFUSAL.PACKAGE_MANIFEST_INVALID,
    make: (m) => sealed(m, { manifest: (x) => (x.modes = { 'install.sh': '0755', 'modules/main.cgi': '0755', 'modules/ghost': '0755' }) }),
  },
  {
    name: 'no manifest.json (a folder and the script only)',
    code: REFUSAL.PACKAGE_MANIFEST_INVALID,
    make: (m) => sealed(m, { entries: (e) => e.slice(1) }),
  },
  { name: 'an empty archive (no entry at all: damaged)', code: REFUSAL.PACKAGE_TRUNCATED, make: (m) => sealed(m, { entries: () => [] }) },
  // ---- size
  {
    name: 'a gzip bomb (20 MiB of zeros, ratio ~1000)',
    code: REFUSAL.PACKAGE_TOO_LARGE,
    make: (m) => sealed(m, listedExtra({ name: 'modules/zeros.bin', body: Buffer.alloc(20 * 1024 * 1024) })),
  },
  {
    name: 'an entry declaring 8 GiB',
    code: REFUSAL.PACKAGE_TOO_LARGE,
    make: (m) => sealed(m, add({ name: 'modules/huge.bin', declaredSize: 0o77777777777 })),
  },
  // ---- truncation and damage
  ...[1, 60, 0.5, -1].map(
    (at): PkgCase => ({
      name: `the .rdsu truncated at ${at === 0.5 ? 'half its length' : at < 0 ? 'its last byte' : `byte ${at}`}`,
      code: REFUSAL.PACKAGE_TRUNCATED,
      make: async (m) => {
        const whole = await sealed(m);
        return truncate(whole, at === 0.5 ? Math.floor(whole.length / 2) : at);
      },
    }),
  ),
  ...[12, 0.5, -9].map(
    (at): PkgCase => ({
      name: `the inner tar.gz truncated at ${at === 0.5 ? 'half its length' : at < 0 ? `${-at} bytes before its end` : `byte ${at}`}, validly signed`,
      code: REFUSAL.PACKAGE_TRUNCATED,
      make: async (m) => {
        const tgz = craftTarGz({ marker: m });
        return seal(truncate(tgz, at === 0.5 ? Math.floor(tgz.length / 2) : at), pPub, hostKey);
      },
    }),
  ),
  {
    name: 'the inner archive is not gzip at all (damaged), validly signed',
    code: REFUSAL.PACKAGE_TRUNCATED,
    make: () => seal(Buffer.from('#!/bin/sh\necho this is not a package\n'), pPub, hostKey),
  },
  {
    name: 'one byte flipped in the encrypted data',
    code: REFUSAL.PACKAGE_TAMPERED,
    make: async (m) => {
      const bytes = Buffer.from(await sealed(m));
      const at = Math.floor(bytes.length * 0.6);
      bytes[at] = (bytes[at] as number) ^ 0x40;
      return bytes;
    },
  },
  // ---- the unpack runs while the package is decrypted: the package's own verdict comes first
  {
    name: 'the gzip stream damaged inside a 2 MB module (a byte flipped at 70%), validly signed: found mid-stream',
    code: REFUSAL.PACKAGE_TRUNCATED,
    make: (m) => seal(damagedTarGz(m), pPub, hostKey),
  },
  {
    name: 'the same damaged gzip stream, signed by another key: the signature wins over the unpack',
    code: REFUSAL.UNKNOWN_KEY,
    make: (m) => seal(damagedTarGz(m), pPub, rogueKey),
  },
  {
    name: 'a gzip bomb, signed by another key: the signature wins over the expansion guard',
    code: REFUSAL.UNKNOWN_KEY,
    make: (m) => sealed(m, listedExtra({ name: 'modules/zeros.bin', body: Buffer.alloc(20 * 1024 * 1024) }), { signer: rogueKey }),
  },
  {
    name: 'a downgrade, not signed at all: the signature wins over the admission',
    code: REFUSAL.NOT_SIGNED,
    make: (m) => sealed(m, { version: '1.0.00-0' }, { signer: null }),
  },
  {
    name: 'the package installed before, signed by another key: refused, not already-installed',
    code: REFUSAL.UNKNOWN_KEY,
    make: (m) =>
      sealed(
        m,
        {
          manifest: (x) => {
            x.packageId = CONTROL_ID;
          },
        },
        { signer: rogueKey },
      ),
  },
  {
    name: 'one byte flipped in the encrypted data inside a 2 MB module (garbled archive, then the MDC)',
    code: REFUSAL.PACKAGE_TAMPERED,
    make: async (m) => {
      const bytes = Buffer.from(await sealed(m, listedExtra({ name: 'modules/big.txt', body: bigText })));
      const at = Math.floor(bytes.length * 0.5);
      bytes[at] = (bytes[at] as number) ^ 0x01;
      return bytes;
    },
  },
  // ---- who made it, who it is for
  { name: 'a package for another agent', code: REFUSAL.PACKAGE_NOT_FOR_ME, make: (m) => sealed(m, {}, { to: qPub }) },
  {
    name: 'a package encrypted with a password instead of a key',
    code: REFUSAL.PACKAGE_NOT_FOR_ME,
    make: async (m) => {
      const message = await openpgp.createMessage({ binary: craftTarGz({ marker: m }) });
      return Buffer.from(
        (await openpgp.encrypt({ message, passwords: ['hunter2'], signingKeys: hostKey, format: 'binary' })) as Uint8Array,
      );
    },
  },
  { name: 'a package not signed at all', code: REFUSAL.NOT_SIGNED, make: (m) => sealed(m, {}, { signer: null }) },
  { name: 'a package signed by another key', code: REFUSAL.UNKNOWN_KEY, make: (m) => sealed(m, {}, { signer: rogueKey }) },
  { name: "a package signed by the agent's own key", code: REFUSAL.UNKNOWN_KEY, make: (m) => sealed(m, {}, { signer: agentPKey }) },
  {
    name: 'a downgrade (1.0.00-0 while 1.0.02-0 runs) without signed permission',
    code: REFUSAL.DOWNGRADE_REFUSED,
    make: (m) => sealed(m, { version: '1.0.00-0' }),
  },
];

function installState(agent: AgentNode) {
  return listTree(agent.installRoot).map((p) => path.relative(agent.installRoot, p));
}

async function runPackageCase(c: PkgCase): Promise<void> {
  const marker = path.join(markers, `case-${++n}`);
  const file = path.join(root, `case-${n}.rdsu`);
  fs.writeFileSync(file, await c.make(marker));
  const before = installState(P);
  const current = fs.readlinkSync(path.join(P.installRoot, 'current'));
  const r = await rds(['--json', '--config', P.config, 'apply-update', file], { cwd: root });
  expect(r.code, `exit code\n${r.stdout}\n${r.stderr}`).toBe(4);
  expect(JSON.parse(r.stdout).error.code).toBe(c.code);
  expect(r.stderr).not.toMatch(/this is a bug/);
  expectAbsent(marker);
  for (const target of c.escapes ?? []) expectAbsent(target);
  expect(listTree(root).filter((p) => /escaped|stowaway|evil/.test(path.basename(p)))).toEqual([]);
  expect(stageLeftovers(P)).toEqual([]);
  expect(installState(P)).toEqual(before);
  expect(fs.readlinkSync(path.join(P.installRoot, 'current'))).toBe(current);
}

describe('hostile update packages (apply-update FILE): exit 4, nothing runs, nothing escapes', () => {
  it('control: a crafted honest package installs, and its script writes the marker', async () => {
    const marker = path.join(markers, 'control');
    const file = path.join(root, 'control.rdsu');
    fs.writeFileSync(
      file,
      await sealed(marker, {
        manifest: (x) => {
          x.packageId = CONTROL_ID;
        },
      }),
    );
    const r = await rdsExpect(0, ['--json', '--config', P.config, 'apply-update', file], { cwd: root });
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'installed', version: '1.0.02-0' });
    expect(fs.readFileSync(marker, 'utf8')).toBe('ran 1.0.02-0\n');
  });

  for (const c of cases) hostileCase(`${c.code}: ${c.name}`, () => runPackageCase(c));

  it('no install script but the control ever ran', () => {
    expect(fs.readdirSync(markers)).toEqual(['control']);
  });

  it("keeps the manifest's modes: a 0755 module is installed executable by the script's cp -R", async () => {
    const marker = path.join(markers, 'modes');
    const file = path.join(root, 'modes.rdsu');
    const tool = { name: 'modules/tool.sh', body: '#!/bin/sh\necho tool\n', mode: 0o755 };
    const modes = { 'install.sh': '0755', 'modules/main.cgi': '0644', 'modules/tool.sh': '0755' };
    const craft = listedExtra(tool);
    const listTool = craft.manifest as (m: Parameters<NonNullable<CraftInput['manifest']>>[0]) => void;
    const manifest: CraftInput['manifest'] = (x) => {
      listTool(x);
      x.modes = modes;
    };
    fs.writeFileSync(file, await sealed(marker, { ...craft, version: '1.0.03-0', manifest }));
    await rdsExpect(0, ['--json', '--config', P.config, 'apply-update', file], { cwd: root });
    // a new file takes the payload's mode through a plain cp -R (less the agent's umask)
    expect(fs.statSync(path.join(P.installRoot, 'current', 'tool.sh')).mode & 0o111).toBe(0o111);
  });
});

// ---- exported updates (export-update's .rdsx: an update mail in a file) -----------------

interface ExportInput {
  /** the payload (default: an update to 1.0.09-0 for P, issued now) */
  p?: PayloadInput;
  key?: openpgp.PrivateKey;
  from?: string;
  /** the update.rdsu part (null: none; default: an honest package of 1.0.09-0 for P) */
  pkg?: Buffer | null;
}

/** An .rdsx crafted by hand: the marker line, then a host mail as the case wants it. */
async function exported(marker: string, o: ExportInput = {}): Promise<Buffer> {
  const p = payload({ type: 'update', to: [P.id], body: { rolloutId: 'R-hostile-export', softwareVersion: '1.0.09-0' }, ...o.p });
  const pkg = o.pkg === undefined ? await sealed(marker, { version: '1.0.09-0' }) : o.pkg;
  const mail = rawMail({
    from: o.from ?? 'host@example.com',
    to: 'agentp@example.com',
    payloadAsc: await sign(p, o.key ?? hostKey),
    attachments: pkg ? [{ filename: 'update.rdsu', content: pkg }] : [],
  });
  return Buffer.concat([Buffer.from('X-RDS-Export: 1\r\n'), mail]);
}

const DAY = 86_400_000;

const exportCases: PkgCase[] = [
  {
    name: 'the marker line, then no mail at all',
    code: REFUSAL.MALFORMED_MAIL,
    make: async () => Buffer.from('X-RDS-Export: 1\r\n\r\nhello\r\n'),
  },
  { name: 'forged From, signed by the host', code: REFUSAL.SENDER_MISMATCH, make: (m) => exported(m, { from: 'evil@attacker.test' }) },
  { name: 'the payload signed by an unknown key', code: REFUSAL.UNKNOWN_KEY, make: (m) => exported(m, { key: rogueKey }) },
  { name: "the payload signed by the agent's own key", code: REFUSAL.UNKNOWN_KEY, make: (m) => exported(m, { key: agentPKey }) },
  {
    name: 'the package wrapped for another agent under a payload for this one',
    code: REFUSAL.PACKAGE_NOT_FOR_ME,
    make: async (m) => exported(m, { pkg: await sealed(m, { version: '1.0.09-0' }, { to: qPub }) }),
  },
  {
    name: "another agent's payload around this agent's package",
    code: REFUSAL.NOT_FOR_ME,
    make: (m) => exported(m, { p: { to: [Q.id] } }),
  },
  {
    name: 'expired (issued 31 days ago, valid 30)',
    code: REFUSAL.EXPIRED,
    make: (m) => exported(m, { p: { issuedAt: new Date(Date.now() - 31 * DAY), ttlMs: 30 * DAY } }),
  },
  { name: 'dated a day ahead', code: REFUSAL.FROM_FUTURE, make: (m) => exported(m, { p: { issuedAt: new Date(Date.now() + DAY) } }) },
  {
    name: 'a signed key-rotation instead of an update',
    code: REFUSAL.UNKNOWN_TYPE,
    make: (m) => exported(m, { p: { type: 'key-rotation', body: {} } }),
  },
  { name: 'an update without its package', code: REFUSAL.MALFORMED, make: (m) => exported(m, { pkg: null }) },
  {
    name: 'the payload announces 1.0.08-0, the package holds 1.0.09-0',
    code: REFUSAL.PACKAGE_MISMATCH,
    make: (m) => exported(m, { p: { body: { rolloutId: 'R-hostile-export', softwareVersion: '1.0.08-0' } } }),
  },
  {
    name: "a validly signed export whose package has a '..' entry",
    code: REFUSAL.PACKAGE_UNSAFE_PATH,
    make: async (m) =>
      exported(m, { pkg: await sealed(m, { version: '1.0.09-0', ...add({ name: 'modules/../../../../escaped-export', body: 'x' }) }) }),
  },
];

describe('hostile exported updates (apply-update FILE.rdsx): the checks of an update mail, exit 4, nothing runs', () => {
  for (const c of exportCases) hostileCase(`${c.code}: ${c.name}`, () => runPackageCase(c));

  it('control: the same crafted export, honest, installs and its script runs', async () => {
    const marker = path.join(markers, 'export-control');
    const file = path.join(root, 'control.rdsx');
    fs.writeFileSync(file, await exported(marker));
    const r = await rdsExpect(0, ['--json', '--config', P.config, 'apply-update', file], { cwd: root });
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'installed', version: '1.0.09-0', rolloutId: 'R-hostile-export' });
    expect(fs.readFileSync(marker, 'utf8')).toBe('ran 1.0.09-0\n');
  });
});
