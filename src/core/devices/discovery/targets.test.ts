import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRdsError } from '../../errors.js';
import { MAX_SCAN_ADDRESSES, parseScanTargets, toAddress } from './targets.js';

const refusal = (target: string) => {
  try {
    parseScanTargets(target);
  } catch (error) {
    return isRdsError(error) ? `${error.code}: ${error.message}` : String(error);
  }
  return 'accepted';
};

describe('parseScanTargets', () => {
  it('one address, a CIDR block without network and broadcast, a range in two forms', () => {
    expect(parseScanTargets('192.0.2.7').addresses).toEqual(['192.0.2.7']);
    const block = parseScanTargets('127.0.0.0/24');
    expect(block.addresses).toHaveLength(254);
    expect([block.addresses[0], block.addresses.at(-1)]).toEqual(['127.0.0.1', '127.0.0.254']);
    expect(block.description).toBe('127.0.0.1–127.0.0.254 (254 addresses)');
    expect(parseScanTargets('192.0.2.9/30').addresses).toEqual(['192.0.2.9', '192.0.2.10']);
    expect(parseScanTargets('192.0.2.8/31').addresses).toEqual(['192.0.2.8', '192.0.2.9']);
    expect(parseScanTargets('127.0.0.2-4').addresses).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    expect(parseScanTargets('10.0.0.254-10.0.1.1').addresses).toEqual(['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1']);
  });

  it('a /16 is the most it scans; more is refused with the count, before anything is sent', () => {
    expect(parseScanTargets('10.1.0.0/16').addresses).toHaveLength(MAX_SCAN_ADDRESSES - 2);
    expect(refusal('10.0.0.0/15')).toBe(
      'BAD_TARGET: 10.0.0.0/15 is 131072 addresses; at most a /16 (65536) is scanned: give a smaller block or range',
    );
    expect(refusal('0.0.0.0/0')).toMatch(/^BAD_TARGET: 0\.0\.0\.0\/0 is 4294967296 addresses/);
    expect(refusal('10.0.0.0-10.2.0.0')).toMatch(/^BAD_TARGET: 10\.0\.0\.0-10\.2\.0\.0 is 131073 addresses/);
  });

  it('refuses what is no IPv4 target, naming it', () => {
    expect(refusal('printer.example')).toMatch(/^BAD_TARGET: "printer\.example" is not an IPv4 address, CIDR block or range/);
    expect(refusal('192.0.2.0/33')).toMatch(/^BAD_TARGET: "192\.0\.2\.0\/33": a prefix length is 0 to 32/);
    expect(refusal('192.0.2.9-3')).toMatch(/^BAD_TARGET: "192\.0\.2\.9-3": the range ends before it starts/);
    expect(refusal('192.0.2.9-300')).toMatch(/^BAD_TARGET: "192\.0\.2\.9-300": the range's end 300 is not an octet/);
    expect(refusal('256.0.0.1')).toMatch(/^BAD_TARGET: "256\.0\.0\.1" is not/);
  });

  it('property: any CIDR either gives addresses inside the block, at most 65536, or is refused as too big', () => {
    let scanned = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }), (n, prefix) => {
        const target = `${toAddress(n)}/${prefix}`;
        const size = 2 ** (32 - prefix);
        const network = Math.floor(n / size) * size;
        if (size > MAX_SCAN_ADDRESSES) {
          expect(refusal(target)).toMatch(/^BAD_TARGET: .* addresses; at most a \/16/);
          return;
        }
        const { addresses } = parseScanTargets(target);
        scanned++;
        expect(addresses.length).toBeLessThanOrEqual(MAX_SCAN_ADDRESSES);
        expect(addresses.length).toBe(size >= 4 ? size - 2 : size);
        const first = addresses[0] as string;
        expect(parseScanTargets(first).addresses).toEqual([first]);
        expect(first.split('.').reduce((a, o) => a * 256 + Number(o), 0)).toBe(size >= 4 ? network + 1 : network);
      }),
      { numRuns: 300 },
    );
    expect(scanned).toBeGreaterThan(100);
  });
});
