// Shared tools of the hostile-input suite (`vitest run --project hostile`): a tally of the
// cases tried and refused (summed over every file by test/hostile/summary.ts), a raw MIME
// builder that can produce what rds itself never would, Maildir drops and counts, the
// quarantine table, and a tar writer that crafts archives node-tar refuses to create
// (`..`, absolute paths, links, devices, PAX overrides), sealed like a real package
// (signed by the host, encrypted to one agent) with openpgp.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import * as openpgp from 'openpgp';
import { afterAll, expect, inject, it } from 'vitest';
import { signData } from '../../src/core/crypto/signed-data.js';
import { MANIFEST_FORMAT, type UpdateManifest } from '../../src/core/package/manifest.js';
import { openPgStore } from '../../src/core/store/pg/open.js';
import type { Db } from '../../src/core/store/types.js';

// ---- tally ------------------------------------------------------------------------------

export interface Tally {
  tried: number;
  refused: number;
}

/**
 * `hostileCase(name, fn)` is an `it` that counts: tried when it starts, refused as
 * expected only when every assertion of `fn` held. One line per file is printed after
 * its tests, and appended to the run's tally for the suite-wide summary line.
 */
export function hostileTally(file: string): {
  hostileCase: (name: string, fn: () => Promise<void> | void, timeout?: number) => void;
  tally: Tally;
} {
  const tally: Tally = { tried: 0, refused: 0 };
  afterAll(() => {
    const line = `hostile[${file}]: ${tally.tried} cases tried, ${tally.refused} refused as expected`;
    console.log(line);
    const dir = inject('hostileTallyDir');
    if (dir) fs.appendFileSync(path.join(dir, 'tally.jsonl'), `${JSON.stringify({ file, ...tally })}\n`);
  });
  const hostileCase = (name: string, fn: () => Promise<void> | void, timeout?: number) =>
    it(
      name,
      async () => {
        tally.tried++;
        await fn();
        tally.refused++;
      },
      timeout,
    );
  return { hostileCase, tally };
}

// ---- keys -------------------------------------------------------------------------------

export async function privateKeyOf(file: string): Promise<openpgp.PrivateKey> {
  return openpgp.readPrivateKey({ armoredKey: fs.readFileSync(file, 'utf8') });
}

export async function publicKeyOf(file: string): Promise<openpgp.PublicKey> {
  return (await openpgp.readKey({ armoredKey: fs.readFileSync(file, 'utf8') })).toPublic();
}

export async function freshKey(name: string): Promise<openpgp.PrivateKey> {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'object' });
  return privateKey;
}

// ---- payloads ---------------------------------------------------------------------------

export interface PayloadInput {
  type?: string;
  from?: string;
  to?: string[];
  id?: string;
  issuedAt?: Date;
  ttlMs?: number;
  body?: Record<string, unknown>;
  inReplyTo?: string;
}

export function payload(input: PayloadInput = {}): Record<string, unknown> {
  const issued = input.issuedAt ?? new Date();
  return {
    format: 1,
    type: input.type ?? 'version-request',
    id: input.id ?? randomUUID(),
    from: input.from ?? 'HOST',
    to: input.to ?? ['AGENT'],
    issuedAt: issued.toISOString(),
    expiresAt: new Date(issued.getTime() + (input.ttlMs ?? 3_600_000)).toISOString(),
    ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}),
    body: input.body ?? {},
  };
}

/** Sign a payload object, or any text/bytes as they are (for malformed payloads). */
export async function sign(value: Record<string, unknown> | string | Uint8Array, key: openpgp.PrivateKey): Promise<string> {
  const bytes = value instanceof Uint8Array ? value : new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
  return signData(bytes, key);
}

/** A valid signature over `value`, then one byte of the signed data changed (`from` → `to`, same length). */
export async function tamperedSignature(
  value: Record<string, unknown>,
  key: openpgp.PrivateKey,
  from: string,
  to: string,
): Promise<string> {
  const armored = await sign(value, key);
  const { data } = await openpgp.unarmor(armored);
  const bytes = Buffer.from(data as unknown as Uint8Array);
  const at = bytes.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new Error(`tamperedSignature: '${from}' not in the signed bytes`);
  bytes.write(to, at, 'latin1');
  return openpgp.armor(openpgp.enums.armor.message, bytes);
}

/** An armored OpenPGP message with literal data only: looks right, carries no signature. */
export async function unsignedMessage(value: Record<string, unknown>): Promise<string> {
  const message = await openpgp.createMessage({ binary: new TextEncoder().encode(JSON.stringify(value)) });
  return message.armor();
}

// ---- mail -------------------------------------------------------------------------------

export interface RawAttachment {
  filename: string;
  content: Buffer | string;
  contentType?: string;
}

export interface RawMailInput {
  /** one or more From header lines, written as given */
  from: string | string[];
  to: string;
  subject?: string;
  text?: string;
  /** payload.asc; omitted when undefined */
  payloadAsc?: string;
  attachments?: RawAttachment[];
  /** extra header lines (without CRLF), before MIME-Version */
  headers?: string[];
  /** wrap the body in this many nested multiparts */
  nest?: number;
}

function base64Lines(content: Buffer | string): string {
  return (Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8')).toString('base64').replace(/.{1,76}/g, '$&\r\n');
}

/** RFC 5322 mail built by hand: every header and part exactly as the case wants it. */
export function rawMail(input: RawMailInput): Buffer {
  const parts: string[] = [`Content-Type: text/plain; charset=utf-8\r\n\r\n${input.text ?? 'rds message'}\r\n`];
  const attachments = [
    ...(input.payloadAsc !== undefined
      ? [{ filename: 'payload.asc', content: input.payloadAsc, contentType: 'application/pgp-signature' }]
      : []),
    ...(input.attachments ?? []),
  ];
  for (const a of attachments) {
    parts.push(
      `Content-Type: ${a.contentType ?? 'application/octet-stream'}; name="${a.filename}"\r\n` +
        `Content-Disposition: attachment; filename="${a.filename}"\r\n` +
        `Content-Transfer-Encoding: base64\r\n\r\n${base64Lines(a.content)}`,
    );
  }
  let body = `Content-Type: multipart/mixed; boundary="b0"\r\n\r\n${parts.map((p) => `--b0\r\n${p}`).join('')}--b0--\r\n`;
  for (let level = 1; level <= (input.nest ?? 0); level++) {
    body = `Content-Type: multipart/mixed; boundary="n${level}"\r\n\r\n--n${level}\r\n${body}--n${level}--\r\n`;
  }
  const froms = Array.isArray(input.from) ? input.from : [input.from];
  const head = [
    ...froms.map((f) => `From: ${f}`),
    `To: ${input.to}`,
    `Subject: ${input.subject ?? '[rds] hostile'}`,
    `Message-ID: <${randomUUID()}@hostile.test>`,
    `Date: ${new Date().toUTCString()}`,
    ...(input.headers ?? []),
    'MIME-Version: 1.0',
  ].join('\r\n');
  return Buffer.from(`${head}\r\n${body}`, 'utf8');
}

// ---- Maildir ----------------------------------------------------------------------------

let drops = 0;

/** Deliver like an MTA: into <root>/<address>/tmp, then rename into new/. */
export function dropMail(mailRoot: string, address: string, raw: Buffer): string {
  const box = path.join(mailRoot, address.toLowerCase());
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(box, sub), { recursive: true, mode: 0o700 });
  const now = Date.now();
  const name = `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}Q${++drops}.hostile,S=${raw.length}`;
  fs.writeFileSync(path.join(box, 'tmp', name), raw, { mode: 0o600 });
  fs.renameSync(path.join(box, 'tmp', name), path.join(box, 'new', name));
  return name;
}

function countFiles(dir: string): number {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => !n.startsWith('.')).length : 0;
}

export interface MaildirCounts {
  inbox: number;
  quarantine: number;
  processed: number;
}

export function maildirCounts(mailRoot: string, address: string): MaildirCounts {
  const box = path.join(mailRoot, address.toLowerCase());
  return {
    inbox: countFiles(path.join(box, 'new')) + countFiles(path.join(box, 'cur')),
    quarantine: countFiles(path.join(box, '.rds-quarantine', 'cur')) + countFiles(path.join(box, '.rds-quarantine', 'new')),
    processed: countFiles(path.join(box, '.rds-processed', 'cur')) + countFiles(path.join(box, '.rds-processed', 'new')),
  };
}

// ---- state database ---------------------------------------------------------------------

export function queryState<T>(stateDir: string, sql: string, ...params: unknown[]): T[] {
  const db = pgStoreOf(stateDir) ?? new Database(path.join(stateDir, 'state.db'), { fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/**
 * On the PostgreSQL re-run (RDS_TEST_STORE=postgres) a host's state is in the store its
 * config (next to the state dir, as initHost lays it out) names: read it there, through the
 * same adapter and query translation rds uses.
 */
function pgStoreOf(stateDir: string): Db | undefined {
  if (process.env.RDS_TEST_STORE !== 'postgres') return undefined;
  const configFile = path.join(path.dirname(stateDir), 'config.json');
  if (!fs.existsSync(configFile)) return undefined;
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as { store?: string; storePasswordFile?: string };
  if (!config.store || config.store === 'sqlite' || !config.storePasswordFile) return undefined;
  const password = fs.readFileSync(config.storePasswordFile, 'utf8').trim();
  return openPgStore({ url: config.store, password, migrate: false });
}

export function quarantineRows(stateDir: string): { reason_code: string; reason: string; payload_id: string | null }[] {
  return queryState(stateDir, 'SELECT reason_code, reason, payload_id FROM quarantine ORDER BY seq');
}

export function countRows(stateDir: string, table: string): number {
  return queryState<{ n: number }>(stateDir, `SELECT COUNT(*) AS n FROM ${table}`)[0]?.n ?? 0;
}

// ---- tar --------------------------------------------------------------------------------

export interface TarEntry {
  name: string;
  /** ustar typeflag: '0' file, '1' hardlink, '2' symlink, '3' char dev, '4' block dev, '5' dir, '6' fifo */
  type?: string;
  body?: Buffer | string;
  linkname?: string;
  mode?: number;
  /** size written in the header when it must differ from the body's */
  declaredSize?: number;
  /** PAX extended header records (e.g. { path: '../x' }) written before this entry */
  pax?: Record<string, string>;
  /** GNU long name ('L' entry) written before this entry */
  longName?: string;
}

function octal(h: Buffer, offset: number, length: number, value: number): void {
  h.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

function header(name: string, type: string, size: number, mode: number, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 1_700_000_000);
  h.fill(' ', 148, 156);
  h.write(type, 156, 1, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

function padded(body: Buffer): Buffer {
  const pad = (512 - (body.length % 512)) % 512;
  return Buffer.concat([body, Buffer.alloc(pad)]);
}

function paxBody(records: Record<string, string>): Buffer {
  let out = '';
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = rest.length + 1;
    while (`${len}${rest}`.length !== len) len = `${len}${rest}`.length;
    out += `${len}${rest}`;
  }
  return Buffer.from(out, 'utf8');
}

/** A tar archive written byte by byte, so it can hold what no well-behaved tool writes. */
export function tarBytes(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const body = paxBody(e.pax);
      blocks.push(header('PaxHeader/entry', 'x', body.length, 0o644), padded(body));
    }
    if (e.longName) {
      const body = Buffer.from(`${e.longName}\0`, 'utf8');
      blocks.push(header('././@LongLink', 'L', body.length, 0o644), padded(body));
    }
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.body) ? e.body : Buffer.from(e.body, 'utf8');
    const type = e.type ?? '0';
    const mode = e.mode ?? (type === '5' ? 0o755 : 0o644);
    blocks.push(header(e.name, type, e.declaredSize ?? body.length, mode, e.linkname), padded(body));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

// ---- packages ---------------------------------------------------------------------------

export interface CraftInput {
  /** the install script appends a line to this file (outside the stage) when it runs */
  marker: string;
  version?: string;
  allowDowngrade?: boolean;
  /** change the manifest after the honest one is built */
  manifest?: (m: UpdateManifest & Record<string, unknown>) => void;
  /** change the entries after the honest ones are built (manifest first) */
  entries?: (entries: TarEntry[]) => TarEntry[];
  /** the manifest.json bytes as written, when they must be something else */
  manifestText?: (honest: string) => string;
}

export function installScriptText(marker: string): string {
  return `#!/bin/sh\necho "ran $RDS_TARGET_VERSION" >> '${marker}'\ncp -R "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"\n`;
}

/** The plaintext of a package (gzip'd tar), honest unless the case bends it. */
export function craftTarGz(input: CraftInput): Buffer {
  const script = installScriptText(input.marker);
  const module = 'main v1.0.01\n';
  const manifest: UpdateManifest & Record<string, unknown> = {
    format: MANIFEST_FORMAT,
    packageId: randomUUID(),
    softwareVersion: input.version ?? '1.0.02-0',
    allowDowngrade: input.allowDowngrade ?? false,
    script: 'install.sh',
    timeoutSeconds: 60,
    modules: [{ name: 'main.cgi', version: '1.0.01', date: '2026/01/01', path: 'modules/main.cgi' }],
    files: { 'install.sh': sha256(script), 'modules/main.cgi': sha256(module) },
    createdAt: new Date().toISOString(),
  };
  input.manifest?.(manifest);
  const honest = JSON.stringify(manifest, null, 2);
  let entries: TarEntry[] = [
    { name: 'manifest.json', body: input.manifestText ? input.manifestText(honest) : honest },
    { name: 'install.sh', body: script, mode: 0o755 },
    { name: 'modules/', type: '5' },
    { name: 'modules/main.cgi', body: module },
  ];
  if (input.entries) entries = input.entries(entries);
  return zlib.gzipSync(tarBytes(entries));
}

/** Sign with `signer` (none: unsigned) and encrypt to `recipient`: an .rdsu as pack + wrap make it. */
export async function seal(plain: Buffer, recipient: openpgp.PublicKey, signer: openpgp.PrivateKey | null): Promise<Buffer> {
  const message = await openpgp.createMessage({ binary: plain });
  const encrypted = await openpgp.encrypt({
    message,
    encryptionKeys: recipient,
    ...(signer ? { signingKeys: signer } : {}),
    format: 'binary',
  });
  return Buffer.from(encrypted as Uint8Array);
}

/** Every path under `dir` (recursive), for "nothing was written where it must not be". */
export function listTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

export function expectAbsent(file: string): void {
  expect(fs.existsSync(file), `${file} must not exist (something ran or escaped)`).toBe(false);
}
