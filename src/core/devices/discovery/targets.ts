/**
 * What `rds devices discover` scans: one IPv4 address, a CIDR block, or a range
 * (`A.B.C.D-E` or `A.B.C.D-A.B.C.E`). Never more than a /16: a bigger target is refused
 * before anything is sent, and the message says how many addresses it would have been.
 */
import { isIPv4 } from 'node:net';
import { UsageError } from '../../errors.js';

/** At most this many addresses in one scan (a /16). */
export const MAX_SCAN_ADDRESSES = 65_536;

export interface ScanTargets {
  /** the addresses, in order */
  addresses: string[];
  /** "192.0.2.1–192.0.2.254 (254 addresses)" for people */
  description: string;
}

const EXAMPLE = 'e.g. 192.0.2.10, 192.0.2.0/24 or 192.0.2.10-192.0.2.50';
const bad = (message: string): never => {
  throw new UsageError('BAD_TARGET', message);
};

function toNumber(text: string, target: string): number {
  if (!isIPv4(text)) bad(`"${target.slice(0, 100)}" is not an IPv4 address, CIDR block or range (${EXAMPLE})`);
  return text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function toAddress(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function span(first: number, last: number, target: string): ScanTargets {
  const count = last - first + 1;
  if (count > MAX_SCAN_ADDRESSES) {
    bad(`${target.slice(0, 100)} is ${count} addresses; at most a /16 (${MAX_SCAN_ADDRESSES}) is scanned: give a smaller block or range`);
  }
  const addresses = Array.from({ length: count }, (_, i) => toAddress(first + i));
  const description = count === 1 ? (addresses[0] as string) : `${toAddress(first)}–${toAddress(last)} (${count} addresses)`;
  return { addresses, description };
}

export function parseScanTargets(target: string): ScanTargets {
  const text = target.trim();
  const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (cidr) {
    const prefix = Number(cidr[2]);
    if (prefix > 32) bad(`"${text}": a prefix length is 0 to 32 (${EXAMPLE})`);
    const size = 2 ** (32 - prefix);
    const network = Math.floor(toNumber(cidr[1] as string, text) / size) * size;
    if (size > MAX_SCAN_ADDRESSES) return span(network, network + size - 1, text);
    // a /30 or bigger: without the network and broadcast addresses, which are no device's
    return size >= 4 ? span(network + 1, network + size - 2, text) : span(network, network + size - 1, text);
  }
  const range = /^([\d.]+)-([\d.]+)$/.exec(text);
  if (range) {
    const first = toNumber(range[1] as string, text);
    const end = range[2] as string;
    const last = /^\d{1,3}$/.test(end) ? Math.floor(first / 256) * 256 + Number(end) : toNumber(end, text);
    if (/^\d{1,3}$/.test(end) && Number(end) > 255) bad(`"${text}": the range's end ${end} is not an octet (0 to 255)`);
    if (last < first) bad(`"${text}": the range ends before it starts (${EXAMPLE})`);
    return span(first, last, text);
  }
  const n = toNumber(text, text);
  return span(n, n, text);
}
