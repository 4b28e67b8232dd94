import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHost, HOST_THRESHOLDS, hostFaults, restartedBetween, TOP_APPLICATIONS } from './decode-host.js';
import { HRH } from './oids.js';
import { loadSnmprec } from './snmprec.js';
import type { Walk } from './walk.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../../../fixtures/hosts/linux-netsnmp.snmprec');

describe('decodeHost over a real net-snmp walk', () => {
  const walk = loadSnmprec(FIXTURE);
  const host = decodeHost(walk);

  it('reads uptime, the processors and their mean load', () => {
    expect(host.uptimeSeconds).toBe(926);
    expect(host.processors).toBe(2);
    expect(host.cpuLoadPercent).toBe(100);
  });

  it('counts buffers and page cache as free memory', () => {
    // (1805120 − 16464 − 757104) KiB of 24683772 KiB
    expect(host.memorySizeBytes).toBe(24683772 * 1024);
    expect(host.memoryUsedPercent).toBe(4.2);
  });

  it('lists the fixed disks with their use, not RAM or swap', () => {
    expect(host.disks.map((d) => d.description)).toEqual(['/dev/shm', '/', '/sys/fs/cgroup']);
    const root = host.disks.find((d) => d.description === '/');
    expect(root).toMatchObject({ index: '36', sizeBytes: 66053021 * 4096, usedBytes: 5937343 * 4096, usedPercent: 9 });
  });

  it('counts the software and ranks the applications by memory', () => {
    expect(host.installedSoftware).toBe(40);
    expect(host.runningProcesses).toBeGreaterThan(100);
    expect(host.topApplications).toHaveLength(TOP_APPLICATIONS);
    const mem = host.topApplications.map((a) => a.memoryKBytes);
    expect(mem).toEqual([...mem].sort((a, b) => b - a));
  });

  it('shows no fault with the default thresholds, and the disk when it is lowered', () => {
    expect(hostFaults(host, undefined, {})).toEqual([]);
    const faults = hostFaults(host, { diskPercent: 9 }, {});
    expect(faults.map((f) => [f.code, f.subunit])).toEqual([['disk-nearly-full', '/']]);
    expect(hostFaults(host, { memoryPercent: 4 }, {}).map((f) => f.code)).toEqual(['memory-exhausted']);
  });
});

describe('hostile text from a host', () => {
  it('process and disk names reach the figures with no control or bidi character', () => {
    const walk: Walk = new Map([
      [`${HRH.swRunName}.1`, { type: 4, value: Buffer.from('evil\u001b]0;pwned\u0007\u202e') }],
      [`${HRH.storageType}.2`, { type: 6, value: HRH.typeFixedDisk }],
      [`${HRH.storageDescr}.2`, { type: 4, value: Buffer.from('/data\u001b[2J\r\nfake line') }],
      [`${HRH.storageAllocationUnits}.2`, { type: 2, value: 4096 }],
      [`${HRH.storageSize}.2`, { type: 2, value: 100 }],
      [`${HRH.storageUsed}.2`, { type: 2, value: 99 }],
    ]);
    const host = decodeHost(walk);
    const texts = [
      host.topApplications[0]?.name ?? '',
      host.disks[0]?.description ?? '',
      ...hostFaults(host, undefined, {}).map((f) => f.subunit),
    ];
    expect(texts).toHaveLength(3);
    for (const text of texts) expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  });
});

describe('restarts', () => {
  it('is a restart when the uptime went back, not when it grew or wrapped', () => {
    expect(restartedBetween(500_000, 1_200)).toBe(true);
    expect(restartedBetween(1_200, 500_000)).toBe(false);
    expect(restartedBetween(undefined, 1_200)).toBe(false);
    expect(restartedBetween(2 ** 32 - 500, 300)).toBe(false);
  });

  it('raises restarted once from the uptimes of two polls', () => {
    const faults = hostFaults({ disks: [] }, undefined, { previous: 360_000, now: 4_000 });
    expect(faults).toEqual([expect.objectContaining({ code: 'restarted', severity: 'info', subunit: '' })]);
  });
});

describe('decodeHost on arbitrary storage rows', () => {
  it('keeps every percentage within 0..100 and every byte count a safe integer, and never throws', () => {
    let reached = 0;
    const row = fc.record({
      type: fc.constantFrom(HRH.typeRam, HRH.typeFixedDisk, '1.3.6.1.2.1.25.2.1.1'),
      units: fc.oneof(fc.integer({ min: -5, max: 65536 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
      size: fc.integer({ min: -5, max: 2 ** 31 - 1 }),
      used: fc.integer({ min: -5, max: 2 ** 31 - 1 }),
      descr: fc.string({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 8 }), (rows) => {
        const walk: Walk = new Map();
        rows.forEach((r, i) => {
          walk.set(`${HRH.storageType}.${i + 1}`, { type: 6, value: r.type });
          walk.set(`${HRH.storageDescr}.${i + 1}`, { type: 4, value: Buffer.from(r.descr) });
          walk.set(`${HRH.storageAllocationUnits}.${i + 1}`, { type: 2, value: r.units });
          walk.set(`${HRH.storageSize}.${i + 1}`, { type: 2, value: r.size });
          walk.set(`${HRH.storageUsed}.${i + 1}`, { type: 2, value: r.used });
        });
        const host = decodeHost(walk);
        if (host.disks.length > 0 || host.memoryUsedPercent !== undefined) reached++;
        for (const d of host.disks) {
          expect(d.usedPercent).toBeGreaterThanOrEqual(0);
          expect(d.usedPercent).toBeLessThanOrEqual(100);
          expect(d.description.length).toBeLessThanOrEqual(128);
          expect(Number.isSafeInteger(d.sizeBytes) && Number.isSafeInteger(d.usedBytes)).toBe(true);
        }
        if (host.memoryUsedPercent !== undefined) expect(host.memoryUsedPercent).toBeLessThanOrEqual(100);
        if (host.memorySizeBytes !== undefined) expect(Number.isSafeInteger(host.memorySizeBytes)).toBe(true);
        hostFaults(host, HOST_THRESHOLDS, {});
      }),
      { numRuns: 300 },
    );
    expect(reached).toBeGreaterThan(100);
  });
});
