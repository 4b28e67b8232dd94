// Update parts on the agent (docs/install.md#update-parts): the part store, the update-part
// handler's checks and limits, reassembly in any order, and the poll-mail pass (requests,
// deadline). The handler gets mails that already passed acceptance (tested in accept.test.ts);
// the install of the reassembled file is counted through the handler's seam (the real
// install of a reassembled package is the cli tier's: test/cli/update-parts.test.ts).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../clock.js';
import type { AgentConfig } from '../config/schema.js';
import { verifySignedData } from '../crypto/signed-data.js';
import { type RdsError, REFUSAL } from '../errors.js';
import { type AgentState, installedAgent, removeAgentState } from '../install/testing.js';
import { silentLogger } from '../logger.js';
import type { HandlerInput } from '../message/inbound.js';
import { parseRdsMail } from '../message/mail.js';
import { decodePayload } from '../message/payload.js';
import type { UpdatePartBody } from '../protocol/update-part.js';
import { caseTally } from '../testing.js';
import type { AgentHandlerContext } from './handlers.js';
import { handleUpdatePart, NO_SPACE, type PartsSeams } from './parts-handler.js';
import { PARTS_EXPIRED, partsPass } from './parts-pass.js';
import { PartStore } from './parts-store.js';

let key: openpgp.PrivateKey;
beforeAll(async () => {
  ({ privateKey: key } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'AGENT1' }],
    format: 'object',
  }));
});

const states: AgentState[] = [];
afterEach(() => {
  for (const s of states.splice(0)) removeAgentState(s);
});

const MIN = 60_000;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Fixture {
  state: AgentState;
  ctx: AgentHandlerContext;
  clock: { at: number } & Clock;
  installs: { file: string; bytes: Buffer; commandId: string }[];
  seams: PartsSeams;
}

function fixture(parts: AgentConfig['parts'] = {}, seams: PartsSeams = {}): Fixture {
  const state = installedAgent('rds-parts-');
  states.push(state);
  const clock = { at: Date.parse('2026-12-01T10:00:00Z'), now: () => new Date(clock.at) };
  const installs: Fixture['installs'] = [];
  const config = {
    role: 'agent',
    id: 'AGENT1',
    address: 'agent1@example.com',
    stateDir: state.stateDir,
    hostId: 'HOST',
    hostAddress: 'host@example.com',
    installRoot: path.join(state.dir, 'root'),
    parts,
  } as AgentConfig;
  const ctx: AgentHandlerContext = {
    db: state.db,
    config,
    self: { id: 'AGENT1', address: 'agent1@example.com', key },
    hostKey: key.toPublic(),
    clock,
    ttlMs: 3_600_000,
    logger: silentLogger,
  };
  const all: PartsSeams = {
    install: async (_ctx, _update, commandId, pkg) => {
      if (typeof pkg === 'string') {
        installs.push({ file: pkg, bytes: fs.readFileSync(pkg), commandId });
        fs.rmSync(pkg);
      } else {
        const chunks: Buffer[] = [];
        for await (const chunk of pkg.source.chunks(0, false)) chunks.push(chunk);
        installs.push({ file: pkg.source.name, bytes: Buffer.concat(chunks), commandId });
      }
      return 'installed';
    },
    ...seams,
  };
  return { state, ctx, clock, installs, seams: all };
}

interface Pkg {
  rolloutId: string;
  packageId: string;
  pkesk: Buffer;
  chunks: Buffer[];
}

function makePackage(n: number, size = 100): Pkg {
  return {
    rolloutId: `R-${randomUUID()}`,
    packageId: randomUUID(),
    pkesk: randomBytes(40),
    chunks: Array.from({ length: n }, (_, i) => randomBytes(i === n - 1 ? Math.max(1, size - 7) : size)),
  };
}

function partBody(p: Pkg, n: number, over: Partial<UpdatePartBody> = {}): UpdatePartBody {
  const chunk = p.chunks[n - 1] as Buffer;
  const hashes = p.chunks.map(sha);
  return {
    rolloutId: p.rolloutId,
    packageId: p.packageId,
    softwareVersion: '1.0.02-0',
    part: n,
    parts: p.chunks.length,
    sha256: sha(chunk),
    ...(n === 1
      ? { first: { pkesk: p.pkesk.toString('base64'), totalSize: p.chunks.reduce((s, c) => s + c.length, 0), partHashes: hashes } }
      : {}),
    ...over,
  };
}

function input(body: UpdatePartBody, bytes: Buffer | undefined): HandlerInput {
  const encoded: Record<string, unknown> = { ...body, ...(body.first ?? {}) };
  delete encoded.first;
  return {
    accepted: { payload: { id: randomUUID(), type: 'update-part', body: encoded } },
    mail: { attachments: new Map(bytes ? [['update.part', bytes]] : []) },
  } as unknown as HandlerInput;
}

async function deliver(f: Fixture, p: Pkg, n: number, over: Partial<UpdatePartBody> = {}, bytes?: Buffer): Promise<string> {
  return handleUpdatePart(f.ctx, f.seams)(input(partBody(p, n, over), bytes ?? p.chunks[n - 1]));
}

async function refusal(promise: Promise<unknown>): Promise<RdsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as RdsError,
  );
  if (!error) throw new Error('expected a refusal, the part was taken');
  return error;
}

/** The signed bodies the agent queued for the host, of one type. */
async function sent(f: Fixture, kind: string): Promise<Record<string, unknown>[]> {
  const rows = f.state.db.prepare('SELECT raw FROM outbox WHERE kind = ? ORDER BY seq').all(kind) as { raw: Buffer }[];
  const out: Record<string, unknown>[] = [];
  for (const { raw } of rows) {
    const mail = await parseRdsMail(raw);
    out.push(decodePayload(await verifySignedData(mail.armoredPayload as string, key.toPublic())).body as Record<string, unknown>);
  }
  return out;
}

const whole = (p: Pkg) => Buffer.concat([p.pkesk, ...p.chunks]);
const store = (f: Fixture) => new PartStore(f.state.db, f.state.stateDir);
const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

describe('reassembly', () => {
  it('in order: parts stored 0600 under a 0700 folder, then pkesk ‖ parts installed once and the parts deleted', async () => {
    const f = fixture();
    const p = makePackage(3);
    expect(await deliver(f, p, 1)).toBe('stored');
    expect(await deliver(f, p, 2)).toBe('stored');
    const pkg = store(f).get(p) as NonNullable<ReturnType<PartStore['get']>>;
    expect(modeOf(path.join(f.state.stateDir, 'parts'))).toBe(0o700);
    expect(modeOf(path.join(f.state.stateDir, 'parts', pkg.dir))).toBe(0o700);
    expect(modeOf(store(f).partFile(pkg, 1))).toBe(0o600);
    expect(await deliver(f, p, 3)).toBe('installed');
    expect(f.installs).toHaveLength(1);
    expect(f.installs[0]?.bytes.equals(whole(p))).toBe(true);
    expect(fs.existsSync(path.join(f.state.stateDir, 'incoming'))).toBe(false); // read from the parts, no joined copy
    expect(fs.existsSync(path.join(f.state.stateDir, 'parts', pkg.dir))).toBe(false);
    expect(store(f).get(p)?.state).toBe('done');
    // a late copy of a part (say, re-sent after a request) is dropped without a word
    expect(await deliver(f, p, 2)).toBe('duplicate');
    expect(f.installs).toHaveLength(1);
  });

  it('joined into one file only when asked (a package staged for the install window): pkesk ‖ parts, 0600, under STATE/incoming', async () => {
    const f = fixture();
    const files: string[] = [];
    f.seams.install = async (_ctx, _update, commandId, pkg) => {
      if (typeof pkg === 'string') throw new Error('a reassembled package comes as its parts');
      const file = pkg.assemble();
      files.push(file);
      f.installs.push({ file, bytes: fs.readFileSync(file), commandId });
      expect(modeOf(file)).toBe(0o600);
      fs.rmSync(file);
      return 'deferred';
    };
    const p = makePackage(3, 3 * 1024 * 1024);
    expect(await deliver(f, p, 2)).toBe('kept (no part 1 yet)');
    expect(await deliver(f, p, 3)).toBe('kept (no part 1 yet)');
    expect(fs.existsSync(path.join(f.state.stateDir, 'incoming'))).toBe(false); // nothing joined on the way
    expect(await deliver(f, p, 1)).toBe('deferred');
    expect(files).toHaveLength(1);
    expect(path.dirname(files[0] as string)).toBe(path.join(f.state.stateDir, 'incoming'));
    expect(f.installs[0]?.bytes.equals(whole(p))).toBe(true);
  });

  it('a part before part 1 is kept, not acted on; a duplicate of it is dropped', async () => {
    const f = fixture();
    const p = makePackage(3);
    expect(await deliver(f, p, 3)).toBe('kept (no part 1 yet)');
    expect(await deliver(f, p, 3)).toBe('duplicate');
    expect(await deliver(f, p, 2)).toBe('kept (no part 1 yet)');
    expect(f.installs).toHaveLength(0);
    expect(await deliver(f, p, 1)).toBe('installed');
    expect(f.installs[0]?.bytes.equals(whole(p))).toBe(true);
  });

  it('part 1 checks the parts stored before it: one not in its signed list is dropped, quarantined and missing again', async () => {
    const f = fixture();
    const p = makePackage(3);
    const forged = randomBytes(100);
    // a part 2 whose own payload signs other bytes than part 1's list names (a host bug, a mix-up)
    expect(await deliver(f, p, 2, { sha256: sha(forged) }, forged)).toBe('kept (no part 1 yet)');
    expect(await deliver(f, p, 1)).toBe('stored');
    expect(store(f).missing(store(f).get(p) as never)).toEqual([2, 3]);
    const rows = f.state.db.prepare('SELECT reason_code, location FROM quarantine').all() as { reason_code: string; location: string }[];
    expect(rows).toEqual([{ reason_code: REFUSAL.PART_HASH_MISMATCH, location: expect.stringMatching(/^parts\/[0-9a-f]{32}\/2\.part$/) }]);
    expect(await deliver(f, p, 3)).toBe('stored');
    expect(await deliver(f, p, 2)).toBe('installed');
    expect(f.installs[0]?.bytes.equals(whole(p))).toBe(true);
  });

  it('a transient failure of the install (the lock busy) keeps the parts: the same mail next pass installs', async () => {
    let busy = true;
    const f = fixture();
    const real = f.seams.install;
    f.seams.install = async (...args) => {
      if (busy) throw Object.assign(new Error('install lock busy'), { code: 'COMMAND_LOCKED' });
      return (real as NonNullable<PartsSeams['install']>)(...args);
    };
    const p = makePackage(2);
    await deliver(f, p, 1);
    await expect(deliver(f, p, 2)).rejects.toThrow('install lock busy');
    busy = false;
    expect(await deliver(f, p, 2)).toBe('installed');
    expect(f.installs).toHaveLength(1);
  });

  it('property: any arrival order, with duplicates, across passes, installs exactly once, byte for byte', async () => {
    const tally = caseTally<'installed'>();
    const numRuns = 60;
    const f = fixture(); // one agent: every case is a new package of its own rollout
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(
              [...Array(n).keys()].map((i) => i + 1),
              { minLength: n, maxLength: n },
            ),
            fc.array(fc.integer({ min: 1, max: n }), { maxLength: 6 }),
            fc.array(fc.nat(), { maxLength: 6 }),
          ),
        ),
        async ([n, order, dups, at]) => {
          f.installs.length = 0;
          const p = makePackage(n, 64);
          const arrivals = [...order];
          dups.forEach((d, i) => {
            arrivals.splice((at[i] ?? 0) % (arrivals.length + 1), 0, d);
          });
          for (const part of arrivals) await deliver(f, p, part);
          expect(f.installs).toHaveLength(1);
          expect(f.installs[0]?.bytes.equals(whole(p))).toBe(true);
          expect(store(f).stored(p)).toEqual([]);
          tally.count('installed');
        },
      ),
      { numRuns },
    );
    tally.atLeast('installed', 1, numRuns);
  }, 60_000);
});

describe('refusals, each with its own code', () => {
  it('bytes that do not match the part’s signed sha256: PART_HASH_MISMATCH, nothing stored', async () => {
    const f = fixture();
    const p = makePackage(2);
    const e = await refusal(deliver(f, p, 2, {}, randomBytes(100)));
    expect(e.code).toBe(REFUSAL.PART_HASH_MISMATCH);
    expect(store(f).get(p)).toBeUndefined();
  });

  it('a part that names another N than its package: PART_LIST_MISMATCH', async () => {
    const f = fixture();
    const p = makePackage(3);
    await deliver(f, p, 1);
    expect((await refusal(deliver(f, p, 2, { parts: 4 }))).code).toBe(REFUSAL.PART_LIST_MISMATCH);
  });

  it('N over parts.maxParts: TOO_MANY_PARTS, told to the host once; later parts quarantined with it, nothing stored', async () => {
    const f = fixture({ maxParts: 2 });
    const p = makePackage(3);
    expect((await refusal(deliver(f, p, 2))).code).toBe(REFUSAL.TOO_MANY_PARTS);
    expect((await refusal(deliver(f, p, 1))).code).toBe(REFUSAL.TOO_MANY_PARTS);
    expect((await sent(f, 'update-result')).map((b) => [b.outcome, b.reasonCode, b.packageId])).toEqual([
      ['refused', REFUSAL.TOO_MANY_PARTS, p.packageId],
    ]);
    expect(store(f).stored(p)).toEqual([]);
  });

  it('a total over parts.maxTotalBytes: PACKAGE_TOO_LARGE (signed by part 1, or held before it)', async () => {
    const f = fixture({ maxTotalBytes: 250 });
    const p = makePackage(3);
    expect((await refusal(deliver(f, p, 1))).code).toBe(REFUSAL.PACKAGE_TOO_LARGE);
    const g = fixture({ maxTotalBytes: 150 });
    const q = makePackage(3);
    expect(await deliver(g, q, 2)).toBe('kept (no part 1 yet)');
    expect((await refusal(deliver(g, q, 3))).code).toBe(REFUSAL.PACKAGE_TOO_LARGE);
    expect(store(g).stored(q)).toEqual([]);
  });

  it('a new package while parts.maxPackages are in reassembly: REASSEMBLY_FULL; the first goes on', async () => {
    const f = fixture({ maxPackages: 1 });
    const a = makePackage(2);
    const b = makePackage(2);
    await deliver(f, a, 1);
    expect((await refusal(deliver(f, b, 1))).code).toBe(REFUSAL.REASSEMBLY_FULL);
    expect(await deliver(f, a, 2)).toBe('installed');
  });

  it(`too little disk for the whole package (2 × its size): ${NO_SPACE} told to the host once, the mails handled`, async () => {
    const f = fixture({}, { freeBytes: () => 500 });
    const p = makePackage(3); // 293 bytes: needs 586
    expect(await deliver(f, p, 1)).toBe('refused');
    expect(await deliver(f, p, 2)).toBe('refused');
    const results = await sent(f, 'update-result');
    expect(results.map((b) => b.reasonCode)).toEqual([NO_SPACE]);
    expect(results[0]?.reason).toMatch(/needs 586 bytes free \(2 × 293\) on the disk of .*, 500 are$/);
    expect(store(f).stored(p)).toEqual([]);
  });

  it('disk full half way: DISK_FULL (transient, exit 3), no record of the part, the earlier parts kept', async () => {
    let full = false;
    const f = fixture(
      {},
      {
        write: (file, data) => {
          if (full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          fs.writeFileSync(file, data, { mode: 0o600 });
        },
      },
    );
    const p = makePackage(3);
    await deliver(f, p, 1);
    full = true;
    const e = await refusal(deliver(f, p, 2));
    expect([e.code, e.exitCode]).toEqual(['DISK_FULL', 3]);
    expect(
      store(f)
        .stored(p)
        .map((s) => s.part),
    ).toEqual([1]);
    full = false;
    await deliver(f, p, 2);
    expect(await deliver(f, p, 3)).toBe('installed');
  });
});

describe('the poll-mail pass', () => {
  it('asks for what is missing after requestMissingAfter, again after as long, at most maxRequests times', async () => {
    const f = fixture({ requestMissingAfter: '30m', maxRequests: 2 });
    const p = makePackage(5);
    await deliver(f, p, 1);
    await deliver(f, p, 4);
    expect((await partsPass(f.ctx)).requested).toEqual([]);
    f.clock.at += 30 * MIN;
    expect((await partsPass(f.ctx)).requested).toEqual([{ rolloutId: p.rolloutId, packageId: p.packageId, missing: [2, 3, 5] }]);
    f.clock.at += 10 * MIN;
    expect((await partsPass(f.ctx)).requested).toEqual([]);
    f.clock.at += 20 * MIN;
    expect((await partsPass(f.ctx)).requested).toHaveLength(1);
    f.clock.at += 60 * MIN;
    expect((await partsPass(f.ctx)).requested).toEqual([]);
    expect((await sent(f, 'parts-request')).map((b) => b.missing)).toEqual([
      [2, 3, 5],
      [2, 3, 5],
    ]);
  });

  it('the option overrides the config; a new part restarts the wait', async () => {
    const f = fixture();
    const p = makePackage(3);
    await deliver(f, p, 2);
    f.clock.at += 5 * MIN;
    expect((await partsPass(f.ctx, '10m')).requested).toEqual([]);
    await deliver(f, p, 3);
    f.clock.at += 9 * MIN;
    expect((await partsPass(f.ctx, '10m')).requested).toEqual([]);
    f.clock.at += 1 * MIN;
    expect((await partsPass(f.ctx, '10m')).requested.map((r) => r.missing)).toEqual([[1]]);
  });

  it(`parts.deadline passed: parts dropped, the host told ${PARTS_EXPIRED}; an installed package's record dropped silently`, async () => {
    const f = fixture({ deadline: '2d' });
    const p = makePackage(3);
    const done = makePackage(1);
    await deliver(f, done, 1);
    await deliver(f, p, 1);
    f.clock.at += 2 * 24 * 60 * MIN;
    const pass = await partsPass(f.ctx);
    expect(pass.expired).toEqual([{ rolloutId: p.rolloutId, packageId: p.packageId, held: 1, parts: 3 }]);
    expect(store(f).list()).toEqual([]);
    expect(fs.readdirSync(path.join(f.state.stateDir, 'parts'))).toEqual([]);
    const results = await sent(f, 'update-result');
    expect(results.map((b) => [b.outcome, b.reasonCode, b.packageId])).toEqual([['refused', PARTS_EXPIRED, p.packageId]]);
  });
});
