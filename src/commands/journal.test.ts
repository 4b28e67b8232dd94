import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stderrIsJournal } from './journal.js';

describe('stderrIsJournal (JOURNAL_STREAM, systemd.exec(5))', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rds-journal-')), 'stream');
  fs.writeFileSync(file, '');
  const fd = fs.openSync(file, 'a');
  const stat = fs.fstatSync(fd, { bigint: true });

  it('is true when JOURNAL_STREAM names the device and inode of the stream itself', () => {
    expect(stderrIsJournal({ JOURNAL_STREAM: `${stat.dev}:${stat.ino}` }, fd)).toBe(true);
  });

  it('is false without JOURNAL_STREAM, with another stream (inherited, then redirected), or garbage', () => {
    expect(stderrIsJournal({}, fd)).toBe(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: `${stat.dev}:${stat.ino + 1n}` }, fd)).toBe(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: 'journal' }, fd)).toBe(false);
  });
});
