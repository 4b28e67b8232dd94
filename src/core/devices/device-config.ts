import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../errors.js';
import type { IppDeviceConfig, SimulatedDeviceConfig, SnmpDeviceConfig, SnmpV3Config } from './types.js';

type Validated =
  | { driver: 'snmp'; config: SnmpDeviceConfig }
  | { driver: 'ipp'; config: IppDeviceConfig }
  | { driver: 'simulated'; config: SimulatedDeviceConfig };

const bad = (message: string): never => {
  throw new UsageError('DEVICE_CONFIG_INVALID', message);
};

/**
 * Check and normalise a device config for its driver, once, at the edge (`devices add`).
 * Messages say what was wrong and show an example; they never echo a secret.
 */
export function validateDeviceConfig(driver: string, raw: unknown): Validated {
  if (typeof raw !== 'object' || raw === null) return bad('device config must be an object');
  const c = raw as Record<string, unknown>;
  if (driver === 'simulated') {
    if (typeof c.file !== 'string' || !c.file) return bad('simulated device needs --file, e.g. --file /var/lib/rds/printers.json');
    if (c.name !== undefined && typeof c.name !== 'string') return bad('simulated device name must be a string');
    return { driver, config: { file: c.file, ...(c.name ? { name: c.name } : {}) } };
  }
  if (driver === 'ipp') return { driver, config: validateIpp(c) };
  if (driver !== 'snmp') return bad(`unknown driver "${driver}" (expected snmp, ipp or simulated)`);

  if (typeof c.address !== 'string' || !c.address.trim()) return bad('SNMP device needs --address, e.g. --address 192.0.2.10:161');
  const version = normaliseVersion(c.version);
  const config: SnmpDeviceConfig = { address: c.address.trim(), version };
  if (c.port !== undefined) config.port = integer(c.port, 'port', 1, 65535);
  if (c.timeoutMs !== undefined) config.timeoutMs = integer(c.timeoutMs, 'timeoutMs', 10, 60_000);
  if (c.retries !== undefined) config.retries = integer(c.retries, 'retries', 0, 10);
  Object.assign(config, validateKind(c.kind, c.thresholds));
  if (version !== '3') {
    if (c.community !== undefined && (typeof c.community !== 'string' || !c.community)) return bad('community must be a non-empty string');
    config.community = (c.community as string | undefined) ?? 'public';
    return { driver, config };
  }
  config.v3 = validateV3(c.v3);
  return { driver, config };
}

/** `--kind printer|host`, and the host's fault thresholds (percent used), only for a host. */
function validateKind(kind: unknown, thresholds: unknown): Pick<SnmpDeviceConfig, 'kind' | 'thresholds'> {
  if (kind !== undefined && kind !== 'printer' && kind !== 'host') return bad(`device kind must be printer or host, not "${String(kind)}"`);
  const out: Pick<SnmpDeviceConfig, 'kind' | 'thresholds'> = kind === 'host' ? { kind } : {};
  if (thresholds === undefined || thresholds === null) return out;
  if (kind !== 'host') return bad('disk and memory thresholds are for a host: add --kind host');
  if (typeof thresholds !== 'object') return bad('thresholds must be an object');
  const t = thresholds as Record<string, unknown>;
  const given: NonNullable<SnmpDeviceConfig['thresholds']> = {};
  if (t.diskPercent !== undefined) given.diskPercent = integer(t.diskPercent, 'disk threshold (percent used)', 1, 100);
  if (t.memoryPercent !== undefined) given.memoryPercent = integer(t.memoryPercent, 'memory threshold (percent used)', 1, 100);
  return Object.keys(given).length > 0 ? { ...out, thresholds: given } : out;
}

function validateV3(raw: unknown): SnmpV3Config {
  if (typeof raw !== 'object' || raw === null) return bad('SNMPv3 needs a user, e.g. --v3-user monitor --v3-auth-key … --v3-priv-key …');
  const v = raw as Record<string, unknown>;
  if (typeof v.user !== 'string' || !v.user) return bad('SNMPv3 needs a user name');
  const authKey = optionalString(v.authKey, 'v3 auth key');
  const privKey = optionalString(v.privKey, 'v3 priv key');
  // RFC 3414 §11.2: passphrases shorter than 8 octets are refused by agents anyway
  if (authKey !== undefined && authKey.length < 8) bad('v3 auth key must be at least 8 characters (RFC 3414)');
  if (privKey !== undefined && privKey.length < 8) bad('v3 priv key must be at least 8 characters (RFC 3414)');
  const level = (v.level as SnmpV3Config['level'] | undefined) ?? (privKey ? 'authPriv' : authKey ? 'authNoPriv' : 'noAuthNoPriv');
  if (!['noAuthNoPriv', 'authNoPriv', 'authPriv'].includes(level))
    bad(`v3 level must be noAuthNoPriv, authNoPriv or authPriv, not "${level}"`);
  if (level !== 'noAuthNoPriv' && !authKey) bad(`v3 level ${level} needs an auth key`);
  if (level === 'authPriv' && !privKey) bad('v3 level authPriv needs a priv key');
  const authProtocol = (v.authProtocol as SnmpV3Config['authProtocol'] | undefined) ?? (authKey ? 'sha' : undefined);
  const privProtocol = (v.privProtocol as SnmpV3Config['privProtocol'] | undefined) ?? (privKey ? 'aes' : undefined);
  if (authProtocol && !['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'].includes(authProtocol))
    bad(`unknown v3 auth protocol "${authProtocol}" (e.g. sha)`);
  if (privProtocol && !['des', 'aes', 'aes256b', 'aes256r'].includes(privProtocol))
    bad(`unknown v3 priv protocol "${privProtocol}" (e.g. aes)`);
  const out: SnmpV3Config = { user: v.user, level };
  if (authProtocol && level !== 'noAuthNoPriv') Object.assign(out, { authProtocol, authKey });
  if (privProtocol && level === 'authPriv') Object.assign(out, { privProtocol, privKey });
  if (typeof v.context === 'string' && v.context) out.context = v.context;
  return out;
}

function normaliseVersion(raw: unknown): SnmpDeviceConfig['version'] {
  if (raw === undefined) return '2c';
  const text = String(raw).toLowerCase().replace(/^v/, '');
  if (text === '1') return '1';
  if (text === '2' || text === '2c') return '2c';
  if (text === '3') return '3';
  return bad(`SNMP version must be 1, 2c or 3, not "${String(raw)}"`);
}

function integer(raw: unknown, name: string, min: number, max: number): number {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) return bad(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

function optionalString(raw: unknown, name: string): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') return bad(`${name} must be a string`);
  return raw;
}

/**
 * `HOST`, `HOST:PORT`, `[v6addr]` or `[v6addr]:PORT` → address and port
 * (docs/commands.md#agent-commands, `devices add --address`).
 */
export function parseDeviceAddress(text: string): { address: string; port?: number } {
  const wrong = () => bad(`address "${text}" is not HOST[:PORT] (a host name, IPv4, or IPv6 in brackets: [2001:db8::1]:161)`);
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    if (!isIPv6(v6[1] as string)) wrong();
    return { address: v6[1] as string, ...(v6[2] ? { port: integer(v6[2], 'port', 1, 65535) } : {}) };
  }
  const parts = text.split(':');
  // more than one colon: a bare IPv6 address without a port, and nothing else
  if (parts.length > 2) return isIPv6(text) ? { address: text } : wrong();
  const host = parts[0] as string;
  if (!isIPv4(host) && !HOST_NAME.test(host)) wrong();
  if (parts.length === 2) return { address: host, port: integer(parts[1], 'port', 1, 65535) };
  return { address: host };
}

/** RFC 1123 host names: labels of letters, digits and inner hyphens, at most 253 characters. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
function validateIpp(c: Record<string, unknown>): IppDeviceConfig {
  const example = 'e.g. --address ipp://192.0.2.20:631/ipp/print';
  if (typeof c.url !== 'string' || !c.url) return bad(`an IPP device needs --address, ${example}`);
  let url: URL;
  try {
    url = new URL(c.url);
  } catch {
    return bad(`IPP address "${c.url.slice(0, 200)}" is not a URL, ${example}`);
  }
  if (url.protocol !== 'ipp:' && url.protocol !== 'ipps:') return bad(`IPP address must start with ipp:// or ipps://, ${example}`);
  if (!url.hostname || url.username || url.password || url.hash)
    return bad(`IPP address needs a host and no user, password or #fragment, ${example}`);
  const config: IppDeviceConfig = { url: url.href };
  if (c.timeoutMs !== undefined) config.timeoutMs = integer(c.timeoutMs, 'timeoutMs', 10, 60_000);
  return config;
}
