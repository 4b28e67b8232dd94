// Property-based fuzzing (fast-check) of every parser that sees bytes from outside: the
// version text parser, the payload decoder and the acceptance rules, the package framing
// and unpacker, the mail parser, and the SNMP decoders and .snmprec reader. The property is
// always the same: a typed result or a typed error (an RdsError subclass), never a crash
// and never a hang. Run counts are chosen so the whole file takes well under a minute on
// two busy cores; set RDS_FUZZ_RUNS to multiply them (e.g. 10 for a long local run).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { isRdsError, ParseError, SecurityError } from '../../src/core/errors.js';
import { type AcceptPolicy, acceptMessage } from '../../src/core/message/accept.js';
import { parseRdsMail } from '../../src/core/message/mail.js';
import { decodePayload } from '../../src/core/message/payload.js';
import { extractPackage } from '../../src/core/package/extractor.js';
import { readPacketHeader, sessionKeyPrefixLength } from '../../src/core/package/packets.js';
import { caseTally } from '../../src/core/testing.js';
import { formatVersionText, parseVersionText, type VersionReport } from '../../src/core/version/version-text.js';
import { craftTarGz, freshKey, payload, rawMail, sign, tarBytes } from './helpers.js';

const SCALE = Math.max(1, Number(process.env.RDS_FUZZ_RUNS ?? 1));
const runs = (n: number) => Math.round(n * SCALE);
let generated = 0;
const seen = <T>(arb: fc.Arbitrary<T>) =>
  arb.map((v) => {
    generated++;
    return v;
  });

afterAll(() => console.log(`hostile[fuzz]: ${generated} generated inputs, each a typed result or a typed error`));

/** Run `fn`; a thrown error must be one of ours (an RdsError subclass), optionally of `kind`. */
async function typed<T>(fn: () => T | Promise<T>, kind?: new (...args: never[]) => Error): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    if (!isRdsError(error)) throw new Error(`untyped error: ${(error as Error)?.stack ?? String(error)}`);
    if (kind && !(error instanceof kind))
      throw new Error(`expected a ${kind.name}, got ${(error as Error).name} ${(error as Error).message}`);
    return undefined;
  }
}

/** What one property's cases came to, with a floor on those that reached the code (src/core/testing.ts). */
const tally = () => caseTally('hostile[fuzz]');

// Floors (share of a property's runs) for the cases that reached the code under test,
// set well below what the generators give today (printed as "hostile[fuzz]: ...").
const F = {
  versionText: 0.3,
  versionTextRefused: 0.2,
  mutatedPayloadDecoded: 0.01,
  mutatedPayloadRefused: 0.5,
  flippedSignedRefused: 0.9,
  packetHeaderDecoded: 0.02,
  packetHeaderRefused: 0.5,
  flippedArchiveDecoded: 0.04,
  flippedArchiveRefused: 0.5,
  randomEntriesRefused: 0.9,
  randomMailRefused: 0.9,
  mutatedMailDecoded: 0.5,
  mutatedMailRefused: 0.05,
  snmpWalkDecoded: 0.5,
  snmprecDecoded: 0.05,
  snmprecRefused: 0.5,
};

// ---- version text -----------------------------------------------------------------------

// Valid texts in every shape the parser must read (tabs or runs of spaces, indents, CRLF,
// trailing blank lines, with or without a ROM line), each with the report it must give;
// the same texts mutated line- and character-wise (most of which must be refused); and
// random text. The property reaches the parser's success path on the valid share.
const version = fc
  .tuple(fc.nat(99), fc.nat(99), fc.nat(999), fc.constantFrom('', '-0', '-1', '-12', 'beta', '-rc2', '.1', '+b!7'))
  .map(([a, b, c, free]) => `${a}.${b}.${String(c).padStart(2, '0')}${free}`);
const moduleName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}( [A-Za-z0-9_.-]{1,8})?$/);
const moduleDate = fc
  .tuple(fc.integer({ min: 1990, max: 2099 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }))
  .map(([y, m, d]) => `${y}/${String(m).padStart(2, '0')}/${String(d).padStart(2, '0')}`);
const versionReport: fc.Arbitrary<VersionReport> = fc
  .record({
    softwareVersion: version,
    romVersion: fc.option(version, { nil: undefined }),
    modules: fc.uniqueArray(fc.record({ name: moduleName, version, date: moduleDate }), { selector: (m) => m.name, maxLength: 10 }),
  })
  .map((r) => (r.romVersion === undefined ? { softwareVersion: r.softwareVersion, modules: r.modules } : r));
const sep = fc.constantFrom('\t', '\t\t', '  ', '   ', ' \t', '\t ');
const indent = fc.constantFrom('', '', '', ' ', '\t');
const validVersionText: fc.Arbitrary<{ text: string; report: VersionReport }> = versionReport.chain((report) =>
  fc
    .record({
      seps: fc.array(sep, { minLength: 2 + 2 * report.modules.length, maxLength: 2 + 2 * report.modules.length }),
      indents: fc.array(indent, { minLength: 3 + report.modules.length, maxLength: 3 + report.modules.length }),
      eol: fc.constantFrom('\n', '\r\n'),
      tail: fc.constantFrom('', '\n', '\n\n', '\n  \n'),
    })
    .map(({ seps, indents, eol, tail }) => {
      const s = (i: number) => seps[i] as string;
      const lines = [`${indents[0]}Software Version${s(0)}${report.softwareVersion}`];
      if (report.romVersion !== undefined) lines.push(`${indents[1]}ROM Version${s(1)}${report.romVersion}`);
      lines.push(`${indents[2]}---Modules---`);
      report.modules.forEach((m, i) => {
        lines.push(`${indents[3 + i]}${m.name}${s(2 + 2 * i)}${m.version}${s(3 + 2 * i)}${m.date}`);
      });
      return { text: `${lines.join(eol)}${tail}`, report };
    }),
);
const textMutation = fc.oneof(
  fc.record({ op: fc.constant('drop-line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('repeat-line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap-lines' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({
    op: fc.constant('set-char' as const),
    at: fc.nat(),
    to: fc.oneof(fc.constantFrom('\t', ' ', '/', '.', '-', 'x', '0', '9', '\0', '\u202e', '\x1b', '\n'), fc.string({ maxLength: 1 })),
  }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 8 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
);
type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never;
function mutateText(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  const line = (n: number) => n % lines.length;
  const at = m.at % (text.length + 1);
  switch (m.op) {
    case 'drop-line':
      return lines.filter((_, i) => i !== line(m.at)).join('\n');
    case 'repeat-line':
      return lines.flatMap((l, i) => (i === line(m.at) ? [l, l] : [l])).join('\n');
    case 'swap-lines': {
      const [a, b] = [line(m.at), line(m.with)];
      [lines[a], lines[b]] = [lines[b] as string, lines[a] as string];
      return lines.join('\n');
    }
    case 'set-char':
      return `${text.slice(0, at)}${m.to}${text.slice(at + 1)}`;
    case 'insert':
      return `${text.slice(0, at)}${m.text}${text.slice(at)}`;
    case 'cut':
      return text.slice(0, at);
  }
}
const versionText: fc.Arbitrary<{ text: string; report?: VersionReport }> = fc.oneof(
  { weight: 4, arbitrary: validVersionText },
  {
    weight: 4,
    arbitrary: fc
      .tuple(validVersionText, fc.array(textMutation, { minLength: 1, maxLength: 3 }))
      .map(([{ text }, ms]) => ({ text: ms.reduce(mutateText, text) })),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }).map((text) => ({ text })) },
);

describe('fuzz: version text', () => {
  it('parses to the report it was written from (valid texts), to a report that formats and re-parses to itself, or is a ParseError', async () => {
    const t = tally();
    const numRuns = runs(1500);
    await fc.assert(
      fc.asyncProperty(seen(versionText), async ({ text, report: expected }) => {
        const report = t.note(await typed(() => parseVersionText(text), ParseError));
        if (expected) expect(report).toEqual(expected);
        if (report) expect(parseVersionText(formatVersionText(report))).toEqual(report);
      }),
      { numRuns },
    );
    t.atLeast('decoded', F.versionText, numRuns);
    t.atLeast('refused', F.versionTextRefused, numRuns);
  });
});

// ---- payloads and acceptance ------------------------------------------------------------

const validPayload = () => payload({ type: 'update', to: ['AGENT1'], body: { rolloutId: 'R1', softwareVersion: '1.0.02-0' } });
const FIELDS = ['format', 'type', 'id', 'from', 'to', 'issuedAt', 'expiresAt', 'inReplyTo', 'body'];
const mutatedPayload = fc
  .array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(fc.constant(undefined), fc.anything(), fc.jsonValue())), {
    minLength: 1,
    maxLength: 3,
  })
  .map((changes) => {
    const p: Record<string, unknown> = validPayload();
    for (const [k, v] of changes) {
      if (v === undefined) delete p[k];
      else p[k] = v;
    }
    return p;
  });

describe('fuzz: payload decoding and acceptance', () => {
  it('decodePayload: random bytes are refused with a SecurityError', async () => {
    const t = tally();
    const numRuns = runs(500);
    await fc.assert(
      fc.asyncProperty(
        seen(
          fc.oneof(
            fc.uint8Array({ maxLength: 400 }),
            fc.string().map((s) => new TextEncoder().encode(s)),
          ),
        ),
        async (bytes) => {
          expect(t.note(await typed(() => decodePayload(bytes), SecurityError))).toBeUndefined();
        },
      ),
      { numRuns },
    );
    t.atLeast('refused', 1, numRuns);
  });

  it('decodePayload: mutated payloads decode to well-typed payloads or are refused', async () => {
    const t = tally();
    const numRuns = runs(800);
    await fc.assert(
      fc.asyncProperty(seen(mutatedPayload), async (p) => {
        let text: string;
        try {
          text = JSON.stringify(p);
        } catch {
          return; // BigInt from fc.anything: cannot be in a JSON payload
        }
        const decoded = t.note(await typed(() => decodePayload(new TextEncoder().encode(text)), SecurityError));
        if (!decoded) return;
        expect(decoded.format).toBe(1);
        expect(typeof decoded.type).toBe('string');
        expect(decoded.id).toMatch(/^[A-Za-z0-9._:@-]{1,128}$/);
        expect(Array.isArray(decoded.to) && decoded.to.every((t) => typeof t === 'string')).toBe(true);
        expect(Number.isNaN(Date.parse(decoded.issuedAt))).toBe(false);
        expect(typeof decoded.body === 'object' && decoded.body !== null && !Array.isArray(decoded.body)).toBe(true);
      }),
      { numRuns },
    );
    t.atLeast('decoded', F.mutatedPayloadDecoded, numRuns);
    t.atLeast('refused', F.mutatedPayloadRefused, numRuns);
  });

  let hostKey: openpgp.PrivateKey;
  let policy: AcceptPolicy;
  let signedBinary: Uint8Array;
  beforeAll(async () => {
    hostKey = await freshKey('HOST');
    policy = {
      selfId: 'AGENT1',
      sendersFor: (a) => (a === 'host@example.com' ? [{ id: 'HOST', address: a, key: hostKey.toPublic() }] : []),
      unknownSenderCode: 'SENDER_MISMATCH',
      acceptBroadcast: true,
      wasProcessed: () => false,
      clock: { now: () => new Date() },
      skewMs: 300_000,
    };
    signedBinary = (await openpgp.unarmor(await sign(validPayload(), hostKey))).data as unknown as Uint8Array;
  });

  it('acceptMessage: random text as the payload, random From: refused with a SecurityError', async () => {
    const t = tally();
    const numRuns = runs(300);
    await fc.assert(
      fc.asyncProperty(
        seen(
          fc.tuple(
            fc.constantFrom('host@example.com', 'HOST@example.com ', 'evil@x.test', ''),
            fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
          ),
        ),
        async ([from, text]) => {
          expect(t.note(await typed(() => acceptMessage(from, text, policy), SecurityError))).toBeUndefined();
        },
      ),
      { numRuns },
    );
    t.atLeast('refused', 1, numRuns);
  });

  it('acceptMessage: a validly signed payload with bytes flipped is refused, never accepted as something else', async () => {
    const t = tally();
    const numRuns = runs(300);
    await fc.assert(
      fc.asyncProperty(
        seen(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 })),
        async (flips) => {
          const bytes = Uint8Array.from(signedBinary);
          for (const [at, x] of flips) bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ x;
          const armored = openpgp.armor(openpgp.enums.armor.message, bytes);
          const accepted = t.note(await typed(() => acceptMessage('host@example.com', armored, policy), SecurityError));
          // a flip the signature does not cover (packet framing, the unsigned literal header)
          // may leave the same payload: then it must be exactly the signed one
          if (accepted) expect(accepted.payload.body).toEqual({ rolloutId: 'R1', softwareVersion: '1.0.02-0' });
        },
      ),
      { numRuns },
    );
    t.atLeast('refused', F.flippedSignedRefused, numRuns);
  });
});

// ---- packages ---------------------------------------------------------------------------

describe('fuzz: package framing and unpacking', () => {
  it('readPacketHeader / sessionKeyPrefixLength over random bytes: numbers or a SecurityError', async () => {
    const t = tally();
    const numRuns = runs(1000);
    await fc.assert(
      fc.asyncProperty(seen(fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.nat(70))), async ([bytes, offset]) => {
        const header = t.note(await typed(() => readPacketHeader(bytes, offset), SecurityError));
        if (header) expect(header.headerLength).toBeGreaterThan(0);
        const cut = await typed(() => sessionKeyPrefixLength(bytes), SecurityError);
        if (cut !== undefined) expect(cut >= 0 && cut <= bytes.length).toBe(true);
      }),
      { numRuns },
    );
    t.atLeast('decoded', F.packetHeaderDecoded, numRuns);
    t.atLeast('refused', F.packetHeaderRefused, numRuns);
  });

  let dir: string;
  let honestTar: Buffer;
  let n = 0;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-fuzz-extract-'));
    honestTar = zlib.gunzipSync(craftTarGz({ marker: path.join(dir, 'never') }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function extractTyped(tarGz: Buffer): Promise<unknown> {
    const file = path.join(dir, `${++n}.tgz`);
    fs.writeFileSync(file, tarGz);
    const stage = path.join(dir, `stage-${n}`);
    try {
      const result = await typed(() => extractPackage(file, stage));
      // whatever was written stayed in the stage
      expect(fs.readdirSync(dir).filter((f) => !/^\d+\.tgz$|^stage-\d+$/.test(f))).toEqual([]);
      return result;
    } finally {
      fs.rmSync(stage, { recursive: true, force: true });
      fs.rmSync(file, { force: true });
    }
  }

  it('extractPackage over random bytes, and random bytes gzip-ed', async () => {
    const t = tally();
    const numRuns = runs(150);
    await fc.assert(
      fc.asyncProperty(seen(fc.tuple(fc.uint8Array({ maxLength: 2048 }), fc.boolean())), async ([bytes, gz]) => {
        expect(t.note(await extractTyped(gz ? zlib.gzipSync(bytes) : Buffer.from(bytes)))).toBeUndefined();
      }),
      { numRuns },
    );
    t.atLeast('refused', 1, numRuns);
  });

  it('extractPackage over an honest archive with bytes flipped (in the tar, then gzip-ed) or cut short', async () => {
    const t = tally();
    const numRuns = runs(250);
    const mutation = fc.oneof(
      fc
        .array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 })
        .map((flips) => ({ flips, cut: undefined })),
      fc.nat().map((cut) => ({ flips: [] as [number, number][], cut })),
    );
    await fc.assert(
      fc.asyncProperty(seen(mutation), async ({ flips, cut }) => {
        let tar = Buffer.from(honestTar);
        // headers are where the interesting bytes are: aim most flips at the first 2 KiB
        for (const [at, x] of flips) {
          const i = at % (at % 3 === 0 ? tar.length : Math.min(2048, tar.length));
          tar[i] = (tar[i] as number) ^ x;
        }
        if (cut !== undefined) tar = tar.subarray(0, cut % tar.length);
        t.note(await extractTyped(zlib.gzipSync(tar)));
      }),
      { numRuns },
    );
    t.atLeast('decoded', F.flippedArchiveDecoded, numRuns);
    t.atLeast('refused', F.flippedArchiveRefused, numRuns);
  });

  it('extractPackage over archives of random entries (names, types, links)', async () => {
    const t = tally();
    const numRuns = runs(200);
    const entry = fc.record({
      name: fc.oneof(
        fc.constantFrom('manifest.json', 'install.sh', 'modules/a', '../x', '/abs', 'a/../../b', 'modules/', '.', './', 'a\\..\\b'),
        fc.string({ maxLength: 30 }),
      ),
      type: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', 'g', 'x', 'L', 'K', 'Z'),
      body: fc.string({ maxLength: 64 }),
      linkname: fc.oneof(fc.constantFrom('', '..', '/etc', 'install.sh', 'modules'), fc.string({ maxLength: 20 })),
    });
    await fc.assert(
      fc.asyncProperty(seen(fc.array(entry, { maxLength: 6 })), async (entries) => {
        const manifest = zlib.gunzipSync(craftTarGz({ marker: path.join(dir, 'never') })).subarray(0, 1024);
        t.note(await extractTyped(zlib.gzipSync(Buffer.concat([manifest, tarBytes(entries)]))));
      }),
      { numRuns },
    );
    t.atLeast('refused', F.randomEntriesRefused, numRuns);
  });
});

// ---- mail -------------------------------------------------------------------------------

describe('fuzz: mail parser', () => {
  let honestMail: Buffer;
  beforeAll(async () => {
    honestMail = rawMail({
      from: 'host@example.com',
      to: 'agent1@example.com',
      payloadAsc: await sign(validPayload(), await freshKey('HOST')),
      attachments: [{ filename: 'update.rdsu', content: Buffer.alloc(300, 7) }],
    });
  });

  it('parseRdsMail over random bytes: a parsed mail or a SecurityError', async () => {
    const t = tally();
    const numRuns = runs(300);
    await fc.assert(
      fc.asyncProperty(
        seen(
          fc.oneof(
            fc.uint8Array({ maxLength: 1500 }),
            fc.string({ maxLength: 1500 }).map((s) => new TextEncoder().encode(s)),
          ),
        ),
        async (bytes) => {
          t.note(await typed(() => parseRdsMail(Buffer.from(bytes)), SecurityError));
        },
      ),
      { numRuns },
    );
    t.atLeast('refused', F.randomMailRefused, numRuns);
  });

  it('parseRdsMail over an honest mail with lines inserted, bytes flipped, or cut short', async () => {
    const t = tally();
    const numRuns = runs(300);
    const inserted = fc.constantFrom(
      'From: evil@attacker.test\r\n',
      'Content-Type: multipart/mixed; boundary="b0"\r\n',
      'Content-Type: multipart/mixed\r\n',
      '--b0\r\n',
      '--b0--\r\n',
      'Content-Disposition: attachment; filename="payload.asc"\r\n',
      'Content-Transfer-Encoding: quoted-printable\r\n',
      '=?utf-8?B?AAAA?=',
      '\r\n\r\n',
      '\0\xff',
    );
    const mutation = fc.record({
      inserts: fc.array(fc.tuple(fc.nat(), inserted), { maxLength: 4 }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(seen(mutation), async ({ inserts, flips, cut }) => {
        let mail = Buffer.from(honestMail);
        for (const [at, text] of inserts) {
          const i = at % mail.length;
          mail = Buffer.concat([mail.subarray(0, i), Buffer.from(text, 'latin1'), mail.subarray(i)]);
        }
        for (const [at, x] of flips) mail[at % mail.length] = (mail[at % mail.length] as number) ^ x;
        if (cut !== undefined) mail = mail.subarray(0, cut % mail.length);
        const parsed = t.note(await typed(() => parseRdsMail(mail), SecurityError));
        if (parsed) expect(typeof parsed.from).toBe('string');
      }),
      { numRuns },
    );
    t.atLeast('decoded', F.mutatedMailDecoded, numRuns);
    t.atLeast('refused', F.mutatedMailRefused, numRuns);
  });
});

// ---- SNMP -------------------------------------------------------------------------------

const COLUMNS = [
  SYS.descr,
  SYS.objectId,
  HR.deviceType,
  HR.deviceDescr,
  HR.deviceStatus,
  HR.printerStatus,
  HR.printerDetectedErrorState,
  PRT.generalSerialNumber,
  PRT.alertAllEvents,
  PRT.alertCode,
  PRT.alertSeverityLevel,
  PRT.alertGroup,
  PRT.alertGroupIndex,
  PRT.alertDescription,
  PRT.suppliesType,
  PRT.suppliesClass,
  PRT.suppliesLevel,
  PRT.suppliesMaxCapacity,
  PRT.suppliesDescription,
  PRT.markerLifeCount,
  PRT.markerCounterUnit,
  PRT.inputName,
  PWG_IC.keyServiceType,
  PWG_IC.keySubunitIndex,
  PWG_IC.impressionTotal,
  PWG_IC.impressionMonochrome,
  PWG_IC.mediaUsedSizeName,
  PWG_IC.mediaUsedTotal,
  SHARP.counters,
  SHARP.labels,
];
const walkValue: fc.Arbitrary<WalkValue> = fc.oneof(
  fc.record({
    type: fc.constantFrom(2 as const, 65 as const, 66 as const, 67 as const),
    value: fc.oneof(fc.integer(), fc.constantFrom(-1, -2, -3, 0, 2 ** 32 - 1)),
  }),
  fc.record({ type: fc.constant(70 as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({
    type: fc.constantFrom(4 as const, 68 as const),
    value: fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'iso_a4_210x297mm', '').map((s) => Buffer.from(s)),
    ),
  }),
  fc.record({ type: fc.constantFrom(6 as const, 64 as const), value: fc.oneof(fc.constant(HR.typePrinter), fc.string({ maxLength: 20 })) }),
  fc.constant({ type: 5 as const, value: null }),
);
const index = fc.oneof(
  fc.constantFrom('1', '1.1', '1.2', '1.3.3', '1.1.3', '5.4.61', '5.4.63', '1.4.60'),
  fc.array(fc.nat(9), { minLength: 1, maxLength: 4 }).map((a) => a.join('.')),
);
const walk: fc.Arbitrary<Walk> = fc
  .array(fc.tuple(fc.constantFrom(...COLUMNS), index, walkValue), { maxLength: 40 })
  .map((rows) => new Map(rows.map(([column, i, v]) => [column.endsWith('.0') ? column : `${column}.${i}`, v])));

describe('fuzz: SNMP decoders and the .snmprec reader', () => {
  it('every decoder over random walks of the right OIDs with values of any type: typed results, prototypes untouched', async () => {
    const t = tally();
    const numRuns = runs(600);
    await fc.assert(
      fc.asyncProperty(seen(walk), async (w) => {
        const printerIndex = findPrinterIndex(w);
        const state = decodePrinterState(w, printerIndex);
        const alerts = decodeAlerts(w);
        const faults = deriveFaults(state.errorState, alerts, decodeSubunitLabels(w, printerIndex));
        const counters = decodeCounters(w, printerIndex);
        const supplies = decodeSupplies(w);
        const identity = decodeIdentity(w, printerIndex);
        for (const f of faults) expect(typeof f.code).toBe('string');
        for (const field of ['total', 'mono', 'colour'] as const)
          expect(counters[field] === undefined || typeof counters[field] === 'number').toBe(true);
        for (const s of supplies) expect(s.percent === undefined || (s.percent >= 0 && s.percent <= 100)).toBe(true);
        for (const v of Object.values(identity)) expect(v === undefined || typeof v === 'string').toBe(true);
        expect(JSON.parse(JSON.stringify(counters))).toBeTypeOf('object');
        expect(Object.keys(Object.prototype)).toEqual([]);
        expect(({} as Record<string, unknown>).total).toBeUndefined();
        // a walk from which some decoder took a value exercised the decoding, not just the guards
        const found =
          faults.length + supplies.length + alerts.length + Object.values(counters).filter((v) => v !== undefined).length > 0 ||
          Object.values(identity).some((v) => v !== undefined);
        t.note(found ? w : undefined);
      }),
      { numRuns },
    );
    t.atLeast('decoded', F.snmpWalkDecoded, numRuns);
  });

  it('parseSnmprec over random text: a walk or a ParseError', async () => {
    const t = tally();
    const numRuns = runs(500);
    const row = fc.oneof(
      fc
        .tuple(
          fc.constantFrom('1.3.6.1.2.1.1.5.0', '.1.3.6', '1.3.x', ''),
          fc.constantFrom('2', '4', '4x', '5', '6', '64', '64x', '65', '70', '99', 'x', ''),
          fc.string({ maxLength: 20 }),
        )
        .map((p) => p.join('|')),
      fc.string({ maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(seen(fc.array(row, { maxLength: 8 })), async (rows) => {
        const parsed = t.note(await typed(() => parseSnmprec(rows.join('\n')), ParseError));
        if (parsed) for (const [k] of parsed) expect(k).toMatch(/^\d+(\.\d+)*$/);
      }),
      { numRuns },
    );
    t.atLeast('decoded', F.snmprecDecoded, numRuns);
    t.atLeast('refused', F.snmprecRefused, numRuns);
  });
});
