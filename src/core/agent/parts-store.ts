/**
 * Update parts kept by the agent until their package is whole (docs/install.md#update-parts):
 * one folder per package under STATE/parts/ (0700; named by a hash of rollout and package,
 * never by their text), one file per part (0600, written to a temp name, fsync'd, renamed),
 * and their records in SQLite (migration 015). Reassembly reads the session-key packets and
 * the parts, in order, straight into the decrypt (or, to stage it, into one package file):
 * the package is never held in memory.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mkdirNoFollow, replaceFileSafely } from '../fs/trust.js';
import { joinedSource, type PackageSource } from '../package/source.js';
import type { Db } from '../store/db.js';

export interface PackageKey {
  rolloutId: string;
  packageId: string;
}

/** open: gathering parts; refused: told to the host once, later parts not stored; done: installed (a late copy of a part is dropped) */
export type PackageState = 'open' | 'refused' | 'done';

export interface PartPackage extends PackageKey {
  dir: string;
  softwareVersion: string;
  parts: number;
  state: PackageState;
  refusedCode?: string;
  firstPayloadId?: string;
  lastPayloadId: string;
  /** known once part 1 came */
  first?: { pkesk: string; totalSize: number; partHashes: string[] };
  firstSeen: string;
  lastPartAt: string;
  requests: number;
  lastRequestAt?: string;
}

export interface StoredPart {
  part: number;
  sha256: string;
  size: number;
}

interface Row {
  rollout_id: string;
  package_id: string;
  dir: string;
  software_version: string;
  parts: number;
  state: PackageState;
  refused_code: string | null;
  first_payload_id: string | null;
  last_payload_id: string;
  pkesk: string | null;
  total_size: number | null;
  part_hashes: string | null;
  first_seen: string;
  last_part_at: string;
  requests: number;
  last_request_at: string | null;
}

function fromRow(r: Row): PartPackage {
  return {
    rolloutId: r.rollout_id,
    packageId: r.package_id,
    dir: r.dir,
    softwareVersion: r.software_version,
    parts: r.parts,
    state: r.state,
    ...(r.refused_code ? { refusedCode: r.refused_code } : {}),
    ...(r.first_payload_id ? { firstPayloadId: r.first_payload_id } : {}),
    lastPayloadId: r.last_payload_id,
    ...(r.pkesk !== null && r.total_size !== null && r.part_hashes !== null
      ? { first: { pkesk: r.pkesk, totalSize: r.total_size, partHashes: JSON.parse(r.part_hashes) as string[] } }
      : {}),
    firstSeen: r.first_seen,
    lastPartAt: r.last_part_at,
    requests: r.requests,
    ...(r.last_request_at ? { lastRequestAt: r.last_request_at } : {}),
  };
}

const KEY = 'rollout_id = ? AND package_id = ?';
const CHUNK = 1024 * 1024;

export interface PartStoreOptions {
  /** how a part's bytes reach the disk (tests inject a failing write) */
  write?: (file: string, data: Uint8Array) => void;
}

export class PartStore {
  readonly root: string;
  private readonly write: (file: string, data: Uint8Array) => void;

  constructor(
    private readonly db: Db,
    stateDir: string,
    options: PartStoreOptions = {},
  ) {
    this.root = path.join(stateDir, 'parts');
    this.write = options.write ?? ((file, data) => replaceFileSafely(file, data, 0o600));
  }

  get(key: PackageKey): PartPackage | undefined {
    const row = this.db.prepare(`SELECT * FROM part_packages WHERE ${KEY}`).get(key.rolloutId, key.packageId) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(): PartPackage[] {
    return (this.db.prepare('SELECT * FROM part_packages ORDER BY first_seen, rollout_id, package_id').all() as Row[]).map(fromRow);
  }

  openCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM part_packages WHERE state = 'open'").get() as { n: number }).n;
  }

  /** A new package record (its folder is made when its first part is stored). */
  create(key: PackageKey, info: { softwareVersion: string; parts: number; payloadId: string; now: Date }): PartPackage {
    const dir = createHash('sha256').update(`${key.rolloutId}\n${key.packageId}`).digest('hex').slice(0, 32);
    const at = info.now.toISOString();
    this.db
      .prepare(
        `INSERT INTO part_packages (rollout_id, package_id, dir, software_version, parts, last_payload_id, first_seen, last_part_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(key.rolloutId, key.packageId, dir, info.softwareVersion, info.parts, info.payloadId, at, at);
    return this.get(key) as PartPackage;
  }

  /** Parts deleted; the record stays (until the deadline) so later copies of its parts are recognised. */
  close(key: PackageKey, state: 'refused' | 'done', code?: string): void {
    this.removeFiles(key);
    this.db
      .prepare(`UPDATE part_packages SET state = ?, refused_code = ? WHERE ${KEY}`)
      .run(state, code ?? null, key.rolloutId, key.packageId);
  }

  setFirst(key: PackageKey, first: { pkesk: string; totalSize: number; partHashes: string[] }, payloadId: string): void {
    this.db
      .prepare(`UPDATE part_packages SET pkesk = ?, total_size = ?, part_hashes = ?, first_payload_id = ? WHERE ${KEY}`)
      .run(first.pkesk, first.totalSize, JSON.stringify(first.partHashes), payloadId, key.rolloutId, key.packageId);
  }

  stored(key: PackageKey): StoredPart[] {
    return this.db
      .prepare(`SELECT part, sha256, size FROM part_files WHERE ${KEY} ORDER BY part`)
      .all(key.rolloutId, key.packageId) as StoredPart[];
  }

  has(key: PackageKey, part: number): boolean {
    return this.db.prepare(`SELECT 1 FROM part_files WHERE ${KEY} AND part = ?`).get(key.rolloutId, key.packageId, part) !== undefined;
  }

  storedBytes(key: PackageKey): number {
    const row = this.db.prepare(`SELECT COALESCE(SUM(size), 0) AS n FROM part_files WHERE ${KEY}`).get(key.rolloutId, key.packageId);
    return (row as { n: number }).n;
  }

  partFile(pkg: PartPackage, part: number): string {
    return path.join(this.root, pkg.dir, `${part}.part`);
  }

  /** The part's bytes durably on disk first, then its record: a crash between leaves a file the next copy replaces. */
  storePart(pkg: PartPackage, part: number, sha256: string, bytes: Uint8Array, payloadId: string, now: Date): void {
    mkdirNoFollow(this.root);
    mkdirNoFollow(path.join(this.root, pkg.dir));
    this.write(this.partFile(pkg, part), bytes);
    const at = now.toISOString();
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR REPLACE INTO part_files (rollout_id, package_id, part, sha256, size, stored_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(pkg.rolloutId, pkg.packageId, part, sha256, bytes.length, at);
      this.db
        .prepare(`UPDATE part_packages SET last_part_at = ?, last_payload_id = ? WHERE ${KEY}`)
        .run(at, payloadId, pkg.rolloutId, pkg.packageId);
    })();
  }

  dropPart(pkg: PartPackage, part: number): void {
    this.db.prepare(`DELETE FROM part_files WHERE ${KEY} AND part = ?`).run(pkg.rolloutId, pkg.packageId, part);
    fs.rmSync(this.partFile(pkg, part), { force: true });
  }

  /** Part numbers not stored yet, ascending. */
  missing(pkg: PartPackage): number[] {
    const have = new Set(this.stored(pkg).map((p) => p.part));
    const out: number[] = [];
    for (let n = 1; n <= pkg.parts; n++) if (!have.has(n)) out.push(n);
    return out;
  }

  noteRequest(key: PackageKey, now: Date): void {
    this.db
      .prepare(`UPDATE part_packages SET requests = requests + 1, last_request_at = ? WHERE ${KEY}`)
      .run(now.toISOString(), key.rolloutId, key.packageId);
  }

  /** pkesk ‖ part 1 ‖ … ‖ part N as one package source, read part file by part file (no joined copy). */
  source(pkg: PartPackage): PackageSource {
    if (!pkg.first) throw new Error(`package ${pkg.packageId} has no part 1 yet`);
    const files = Array.from({ length: pkg.parts }, (_, i) => this.partFile(pkg, i + 1));
    return joinedSource(Buffer.from(pkg.first.pkesk, 'base64'), files, `package ${pkg.packageId} (${pkg.parts} parts)`);
  }

  /** pkesk ‖ part 1 ‖ … ‖ part N into `out` (created 0600, fsync'd), chunk by chunk. */
  assemble(pkg: PartPackage, out: string): number {
    if (!pkg.first) throw new Error(`package ${pkg.packageId} has no part 1 yet`);
    const fd = fs.openSync(out, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    let written = 0;
    try {
      written += fs.writeSync(fd, Buffer.from(pkg.first.pkesk, 'base64'));
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (let n = 1; n <= pkg.parts; n++) written += copyInto(fd, this.partFile(pkg, n), buffer);
      fs.fsyncSync(fd);
    } catch (error) {
      fs.closeSync(fd);
      fs.rmSync(out, { force: true });
      throw error;
    }
    fs.closeSync(fd);
    return written;
  }

  /** The package's folder and records, gone. */
  remove(key: PackageKey): void {
    this.removeFiles(key);
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM part_files WHERE ${KEY}`).run(key.rolloutId, key.packageId);
      this.db.prepare(`DELETE FROM part_packages WHERE ${KEY}`).run(key.rolloutId, key.packageId);
    })();
  }

  private removeFiles(key: PackageKey): void {
    const pkg = this.get(key);
    if (pkg) fs.rmSync(path.join(this.root, pkg.dir), { recursive: true, force: true });
    this.db.prepare(`DELETE FROM part_files WHERE ${KEY}`).run(key.rolloutId, key.packageId);
  }
}

function copyInto(fd: number, file: string, buffer: Buffer): number {
  const src = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  let total = 0;
  try {
    for (;;) {
      const n = fs.readSync(src, buffer, 0, buffer.length, null);
      if (n === 0) break;
      let off = 0;
      while (off < n) off += fs.writeSync(fd, buffer, off, n - off);
      total += n;
    }
  } finally {
    fs.closeSync(src);
  }
  return total;
}
