/**
 * A thin promise wrapper over one net-snmp session: GET, GETNEXT, GETBULK and subtree walks
 * that return decoded values, and errors mapped to TransientError. It never puts the
 * community or v3 keys in an error or log line; messages name the device by address only.
 */
import type * as NetSnmp from 'net-snmp';
import { TransientError } from '../../errors.js';
import { compareOids, normaliseOid, type Walk, type WalkValue } from '../decoders/walk.js';
import type { SnmpDeviceConfig } from '../types.js';

export interface SnmpClient {
  /** false for SNMPv1, which has no GETBULK (RFC 3416 §4.2.3 is v2c/v3 only). */
  readonly bulk: boolean;
  get(oids: readonly string[]): Promise<Walk>;
  /** One GETNEXT; the answer for each requested OID, in order (undefined past the MIB's end). */
  getNext(oids: readonly string[]): Promise<Array<Entry | undefined>>;
  /** One GETBULK: GETNEXT for each non-repeater, up to maxRepetitions for each repeater. */
  getBulk(nonRepeaters: readonly string[], repeaters: readonly string[], maxRepetitions: number): Promise<BulkAnswer>;
  /** Every object under `prefix`, starting after `from` (default: the start of the subtree). */
  walk(prefix: string, from?: string): Promise<Walk>;
  close(): void;
}

export interface Entry {
  oid: string;
  value?: WalkValue;
}
export interface BulkAnswer {
  nonRepeaters: Array<Entry | undefined>;
  repeaters: Entry[][];
}

export interface SnmpDefaults {
  timeoutMs: number;
  retries: number;
  /** GETBULK max-repetitions for walks (RFC 3416 §4.2.3). */
  maxRepetitions: number;
}
export const SNMP_DEFAULTS: SnmpDefaults = { timeoutMs: 2000, retries: 1, maxRepetitions: 20 };
/** Objects one walk may return (a printer's largest tables hold hundreds). */
export const MAX_WALK_OBJECTS = 100_000;

type Snmp = typeof NetSnmp;
let loaded: Promise<Snmp> | undefined;
/** net-snmp is loaded on first use: `rds --version` and `devices list` never pay for it. */
function loadSnmp(): Promise<Snmp> {
  loaded ??= import('net-snmp').then((m) => ((m as unknown as { default?: Snmp }).default ?? m) as Snmp);
  return loaded;
}

export async function openSnmpClient(config: SnmpDeviceConfig, defaults: SnmpDefaults = SNMP_DEFAULTS): Promise<SnmpClient> {
  const snmp = await loadSnmp();
  const where = `${config.address}:${config.port ?? 161}`;
  const session = createSession(snmp, config, defaults, where);
  const requests = sessionRequests(snmp, session, where);
  const bulk = config.version !== '1';
  const client: SnmpClient = {
    bulk,
    get: (oids) => getValues(snmp, requests, oids),
    async getNext(oids) {
      if (oids.length < 2 || bulk) return requests.getNext(oids);
      // v1: one unknown-past-the-end OID fails the PDU; ask one by one
      return (await Promise.all(oids.map((oid) => requests.getNext([oid])))).map((r) => r[0]);
    },
    getBulk: requests.getBulk,
    walk: (prefix, from = prefix) => walkSubtree(client, { prefix, from, where, maxRepetitions: defaults.maxRepetitions }),
    close() {
      try {
        session.close();
      } catch {
        // already closed
      }
    },
  };
  return client;
}

/** A v1/v2c session's local engine ID (RFC 3411 §5 format: enterprise 0x00B983, 12 zero bytes); never sent. */
const UNUSED_ENGINE_ID = Buffer.from('8000b98380000000000000000000000000', 'hex');

/** One device's net-snmp session: v1/v2c with a community, v3 with a user. */
function createSession(snmp: Snmp, config: SnmpDeviceConfig, defaults: SnmpDefaults, where: string): NetSnmp.Session {
  const options = {
    port: config.port ?? 161,
    timeout: config.timeoutMs ?? defaults.timeoutMs,
    retries: config.retries ?? defaults.retries,
    backoff: 1,
    transport: config.address.includes(':') ? ('udp6' as const) : ('udp4' as const),
  };
  let session: NetSnmp.Session;
  if (config.version === '3') {
    const v3 = config.v3;
    if (!v3) throw new TransientError('DEVICE_CONFIG', `SNMPv3 device ${where} has no v3 user`);
    const user: NetSnmp.User = {
      name: v3.user,
      level: snmp.SecurityLevel[v3.level],
      authProtocol: v3.authProtocol ? snmp.AuthProtocols[v3.authProtocol] : undefined,
      authKey: v3.authKey,
      privProtocol: v3.privProtocol ? snmp.PrivProtocols[v3.privProtocol] : undefined,
      privKey: v3.privKey,
    };
    session = snmp.createV3Session(config.address, user, { ...options, version: snmp.Version3, context: v3.context ?? '' });
  } else {
    const version = config.version === '1' ? snmp.Version1 : snmp.Version2c;
    // v1/v2c never use the session's local SNMP engine (only v3 and traps do): a fixed ID
    // spares every session net-snmp's random one, a measurable cost over 2,000 devices
    // (net-snmp reads options.engineID; its type declarations do not list it)
    const v2 = { ...options, version, engineID: UNUSED_ENGINE_ID };
    session = snmp.createSession(config.address, config.community ?? 'public', v2);
  }
  // a socket error must not crash the process; requests on it fail and are mapped below
  session.on('error', () => {});
  return session;
}

/** The session's requests as promises; `fail` maps an error to the TransientError it means. */
interface Requests {
  fail(error: unknown): never;
  /** One GET, its error not yet mapped (SNMPv1's noSuchName is the caller's to handle). */
  getOnce(oids: readonly string[]): Promise<NetSnmp.Varbind[]>;
  getNext(oids: readonly string[]): Promise<Array<Entry | undefined>>;
  getBulk: SnmpClient['getBulk'];
}

function sessionRequests(snmp: Snmp, session: NetSnmp.Session, where: string): Requests {
  const fail = (error: unknown): never => {
    throw mapError(error, where);
  };
  const call = <T>(fn: (cb: (error: Error | null, result?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => fn((error, result) => (error ? reject(error) : resolve(result as T))));
  return {
    fail,
    getOnce: (oids) => call<NetSnmp.Varbind[]>((cb) => session.get([...oids], cb)),
    async getNext(oids) {
      try {
        return (await call<NetSnmp.Varbind[]>((cb) => session.getNext([...oids], cb))).map((vb) => toEntry(snmp, vb));
      } catch (error) {
        // SNMPv1 reports the end of the MIB view as noSuchName (RFC 1157 §4.1.3)
        if (isNoSuchName(snmp, error) && oids.length === 1) return [undefined];
        return fail(error);
      }
    },
    async getBulk(nonRepeaters, repeaters, maxRepetitions) {
      const answer = await call<Array<NetSnmp.Varbind | NetSnmp.Varbind[]>>((cb) =>
        session.getBulk([...nonRepeaters, ...repeaters], nonRepeaters.length, maxRepetitions, cb),
      ).catch(fail);
      return {
        nonRepeaters: answer.slice(0, nonRepeaters.length).map((vb) => toEntry(snmp, vb as NetSnmp.Varbind)),
        repeaters: repeaters.map((_, i) =>
          ((answer[nonRepeaters.length + i] as NetSnmp.Varbind[] | undefined) ?? []).map((vb) => toEntry(snmp, vb) ?? { oid: vb.oid }),
        ),
      };
    },
  };
}

async function getValues(snmp: Snmp, requests: Requests, oids: readonly string[]): Promise<Walk> {
  try {
    return toWalk(snmp, await requests.getOnce(oids));
  } catch (error) {
    // SNMPv1 fails a whole GET when one OID is unknown (RFC 1157 noSuchName); v2c
    // answers noSuchObject per varbind. Ask one by one so vendor probes stay cheap.
    if (!isNoSuchName(snmp, error)) return requests.fail(error);
    const walk: Walk = new Map();
    if (oids.length < 2) return walk;
    const results = await Promise.allSettled(oids.map((oid) => requests.getOnce([oid])));
    for (const r of results) {
      if (r.status === 'fulfilled') for (const [k, v] of toWalk(snmp, r.value)) walk.set(k, v);
      else if (!isNoSuchName(snmp, r.reason)) return requests.fail(r.reason);
    }
    return walk;
  }
}

/** Every object under `prefix` after `from`: GETBULK batches (GETNEXT on v1), bounded and strictly increasing. */
async function walkSubtree(
  client: SnmpClient,
  { prefix, from, where, maxRepetitions }: { prefix: string; from: string; where: string; maxRepetitions: number },
): Promise<Walk> {
  const walk: Walk = new Map();
  const inside = `${prefix}.`;
  let cursor = from;
  for (;;) {
    const batch = client.bulk
      ? ((await client.getBulk([], [cursor], maxRepetitions)).repeaters[0] ?? [])
      : [(await client.getNext([cursor]))[0]].filter((e): e is Entry => e !== undefined);
    let more = batch.length > 0;
    for (const entry of batch) {
      if (!entry.value || !entry.oid.startsWith(inside)) {
        more = false;
        break;
      }
      // a broken or hostile agent answering an OID that does not follow the last one, or a
      // table without end, would keep this loop asking for ever
      if (compareOids(entry.oid, cursor) <= 0) {
        throw new TransientError('DEVICE_ERROR', `SNMP walk of ${prefix} on ${where}: ${entry.oid} does not follow ${cursor}`);
      }
      if (walk.size >= MAX_WALK_OBJECTS) {
        throw new TransientError('DEVICE_ERROR', `SNMP walk of ${prefix} on ${where}: more than ${MAX_WALK_OBJECTS} objects`);
      }
      walk.set(entry.oid, entry.value);
      cursor = entry.oid;
    }
    if (!more) return walk;
  }
}

function isNoSuchName(snmp: Snmp, error: unknown): boolean {
  return (
    (error as { name?: string; status?: number })?.name === 'RequestFailedError' &&
    (error as { status?: number }).status === snmp.ErrorStatus.NoSuchName
  );
}

/** net-snmp ResponseInvalidCode.EAuthFailure */
const AUTH_FAILURE = 5;

function mapError(error: unknown, where: string): TransientError {
  const e = error as { name?: string; message?: string; status?: number };
  if (e?.name === 'RequestTimedOutError') {
    return new TransientError('DEVICE_UNREACHABLE', `no SNMP answer from ${where}`, { cause: error });
  }
  if (e?.name === 'ResponseInvalidError' && (error as { code?: number }).code === AUTH_FAILURE) {
    // RFC 3414 §3.2: the agent's answer did not authenticate with our key
    return new TransientError('DEVICE_AUTH_FAILED', `SNMPv3 authentication with ${where} failed (check user and auth key)`, {
      cause: error,
    });
  }
  return new TransientError('DEVICE_ERROR', `SNMP request to ${where} failed: ${e?.message ?? String(error)}`, { cause: error });
}

function toEntry(snmp: Snmp, vb: NetSnmp.Varbind | undefined): Entry | undefined {
  if (!vb) return undefined;
  // endOfMibView / noSuchObject: the OID is there, the value is not
  if (snmp.isVarbindError(vb)) return { oid: normaliseOid(vb.oid) };
  return { oid: normaliseOid(vb.oid), value: toValue(vb) };
}

function toWalk(snmp: Snmp, varbinds: readonly NetSnmp.Varbind[]): Walk {
  const walk: Walk = new Map();
  for (const vb of varbinds) {
    if (snmp.isVarbindError(vb)) continue; // noSuchObject / noSuchInstance / endOfMibView
    const value = toValue(vb);
    if (value) walk.set(normaliseOid(vb.oid), value);
  }
  return walk;
}

function toValue(vb: NetSnmp.Varbind): WalkValue | undefined {
  const v = vb.value;
  // the @types enum numbers some members wrongly; the wire tags are what matter (RFC 2578)
  const type = vb.type as number | undefined;
  switch (type) {
    case 2:
    case 65:
    case 66:
    case 67:
      return typeof v === 'number' ? { type, value: v } : undefined;
    case 70:
      if (Buffer.isBuffer(v)) return { type: 70, value: v.length ? BigInt(`0x${v.toString('hex')}`) : 0n };
      return typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' ? { type: 70, value: BigInt(v) } : undefined;
    case 4:
    case 68:
      return Buffer.isBuffer(v) ? { type, value: v } : typeof v === 'string' ? { type, value: Buffer.from(v) } : undefined;
    case 6:
    case 64:
      return typeof v === 'string' ? { type, value: normaliseOid(v) } : undefined;
    case 5:
      return { type: 5, value: null };
    default:
      return undefined;
  }
}
