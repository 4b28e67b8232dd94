import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL } from '../errors.js';
import { EXPORT_MARKER, EXPORT_MAX_BYTES, exportFileName, isExportFile, readExportFile, readHead, toExportFile } from './export-file.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-export-file-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const marker = Buffer.from(`${EXPORT_MARKER}\r\n`, 'latin1');

describe('the .rdsx marker line', () => {
  it('every export starts with it, whatever the mail', () => {
    let reached = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (mail) => {
        const file = toExportFile(Buffer.from(mail));
        expect(isExportFile(file)).toBe(true);
        expect(file.subarray(marker.length).equals(Buffer.from(mail))).toBe(true);
        reached++;
      }),
    );
    expect(reached).toBeGreaterThanOrEqual(100);
  });

  it('a binary OpenPGP package (first byte with bit 7 set) is never taken for one', () => {
    let reached = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0x80, max: 0xff }), fc.uint8Array({ maxLength: 64 }), (first, rest) => {
        expect(isExportFile(Buffer.from([first, ...rest]))).toBe(false);
        reached++;
      }),
    );
    expect(reached).toBeGreaterThanOrEqual(100);
  });

  it('is taken only whole, ended by CRLF or LF: any other start is not an export', () => {
    let near = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 40 }),
          // near misses: a prefix of the marker line, then anything
          fc.tuple(fc.integer({ min: 0, max: marker.length - 1 }), fc.string({ maxLength: 8 })).map(([cut, tail]) => {
            near++;
            return `${marker.toString('latin1').slice(0, cut)}${tail}`;
          }),
        ),
        (text) => {
          const whole = text.startsWith(`${EXPORT_MARKER}\r\n`) || text.startsWith(`${EXPORT_MARKER}\n`);
          expect(isExportFile(Buffer.from(text, 'latin1'))).toBe(whole);
        },
      ),
    );
    expect(near).toBeGreaterThanOrEqual(20);
    expect(isExportFile(Buffer.from(`${EXPORT_MARKER}\nFrom: a@b\n`))).toBe(true);
    expect(isExportFile(Buffer.from('X-RDS-Export: 2\r\n'))).toBe(false);
    expect(isExportFile(Buffer.from(` ${EXPORT_MARKER}\r\n`))).toBe(false);
  });

  it('readHead reads the first bytes only; an empty file is no export', () => {
    const file = path.join(dir, 'empty.rdsx');
    fs.writeFileSync(file, '');
    expect(isExportFile(readHead(file))).toBe(false);
    const big = path.join(dir, 'big.rdsx');
    fs.writeFileSync(big, Buffer.concat([marker, Buffer.alloc(10_000, 0x41)]));
    expect(readHead(big).length).toBe(64);
    expect(isExportFile(readHead(big))).toBe(true);
  });
});

describe('readExportFile', () => {
  it(`refuses a file over ${EXPORT_MAX_BYTES} bytes before reading it (OVERSIZE)`, () => {
    const file = path.join(dir, 'huge.rdsx');
    fs.writeFileSync(file, marker);
    fs.truncateSync(file, EXPORT_MAX_BYTES + 1); // sparse: no gigabyte written
    expect(() => readExportFile(file)).toThrow(expect.objectContaining({ code: REFUSAL.OVERSIZE }));
  });

  it('names the default file after the version and the agent', () => {
    expect(exportFileName('1.0.02-0', 'AGENT0000007')).toBe('update-1.0.02-0-AGENT0000007.rdsx');
  });
});
