// src/core/devices/index.ts is the devices core's public surface: code outside the folder
// imports from it (a cron-started watch-faults pass from its light subset, watch.ts; test
// support from devices/testing.ts), never from drivers/, decoders/,
// faults/ or counters/ directly, so the folder can be rearranged behind the index. And the
// index must stay light: net-snmp is loaded by the SNMP session on first use, never by an
// import, so a command that loads the index does not load net-snmp.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEVICES = path.join(ROOT, 'src/core/devices');
// watch.ts: the light entry of a cron-started watch-faults pass (a subset of the index)
const ENTRIES = new Set([path.join(DEVICES, 'index.js'), path.join(DEVICES, 'watch.js'), path.join(DEVICES, 'testing.js')]);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|mjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** Every module specifier in a file: static imports and re-exports, import(), vi.mock(). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+'([^']+)'/g, /\bimport\s*\(\s*'([^']+)'/g, /\bimport\s+'([^']+)'/g, /\bvi\.(?:do)?[mM]ock\(\s*'([^']+)'/g];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1] as string);
  return found;
}

const inside = (file: string) => file.startsWith(DEVICES + path.sep);

describe('devices core surface', () => {
  it('code outside src/core/devices imports only its index (or testing.ts for test support)', () => {
    const files = ['src', 'test', 'bench'].flatMap((d) => sourceFiles(path.join(ROOT, d))).filter((f) => !inside(f));
    const deep: string[] = [];
    let viaIndex = 0;
    for (const file of files) {
      for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), spec);
        if (!inside(target)) continue;
        if (ENTRIES.has(target)) viaIndex++;
        else deep.push(`${path.relative(ROOT, file)}: ${spec}`);
      }
    }
    expect(deep).toEqual([]);
    // the scan sees the real importers (commands, agent, tests, bench), not an empty tree
    expect(viaIndex).toBeGreaterThanOrEqual(10);
  });

  it('nothing under src/core/devices loads net-snmp at import time; the SNMP session loads it on first use', () => {
    const files = sourceFiles(DEVICES).filter((f) => !f.endsWith('.test.ts'));
    const eager: string[] = [];
    const lazy: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'net-snmp';/gms)) {
        if (!m[1]) eager.push(path.relative(ROOT, file));
      }
      if (/\bimport\(\s*'net-snmp'\s*\)/.test(text)) lazy.push(path.relative(ROOT, file));
    }
    expect(eager).toEqual([]);
    expect(lazy).toEqual(['src/core/devices/drivers/snmp-session.ts']);
  });
});
