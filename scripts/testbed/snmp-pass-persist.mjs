#!/usr/bin/env node
// net-snmp snmpd "pass_persist" backend that serves values from a data file in
// snmpsim's .snmprec format, re-reading the file whenever it changes, so a
// test can change what the "printer" reports at run time by rewriting it.
//
//   snmpd.conf:  pass_persist .1.3.6.1.2.1.43 /usr/bin/node THIS.mjs DATAFILE
//
// DATAFILE lines:  OID|TAG|VALUE   (TAG = ASN.1 tag as used by snmpsim)
//   2 Integer32   4 OCTET STRING   4x OCTET STRING given as hex   5 NULL
//   6 OBJECT IDENTIFIER   64 IpAddress   65 Counter32   66 Gauge32
//   67 TimeTicks   70 Counter64
// Only OIDs under the subtree snmpd registered for us are answered (snmpd
// passes that as the request OID prefix; we take it from argv[3] if given,
// else answer anything in the file).
import fs from 'node:fs';
import readline from 'node:readline';

const file = process.argv[2];
const prefix = (process.argv[3] ?? '').replace(/^\./, '');
let mtime = -1,
  size = -1,
  ino = -1,
  rows = [];

const cmp = (a, b) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};
const split = (oid) => oid.replace(/^\./, '').split('.').filter(Boolean).map(Number);
const TYPES = {
  2: 'integer',
  4: 'string',
  '4x': 'octet',
  6: 'objectid',
  64: 'ipaddress',
  65: 'counter',
  66: 'gauge',
  67: 'timeticks',
  70: 'counter64',
};

function load() {
  let st;
  try {
    st = fs.statSync(file);
  } catch {
    rows = [];
    return;
  }
  // write+rename gives a new inode: compare it too, not just mtime and size
  if (st.mtimeMs === mtime && st.size === size && st.ino === ino) return;
  mtime = st.mtimeMs;
  size = st.size;
  ino = st.ino;
  const out = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const i = line.indexOf('|'),
      j = line.indexOf('|', i + 1);
    if (i < 0 || j < 0) continue;
    const oid = line.slice(0, i).replace(/^\./, ''),
      tag = line.slice(i + 1, j);
    let value = line.slice(j + 1);
    const type = TYPES[tag];
    if (!type) continue;
    if (prefix && !(oid === prefix || oid.startsWith(`${prefix}.`))) continue;
    if (type === 'octet') value = value.replace(/[^0-9a-fA-F]/g, '').replace(/(..)(?!$)/g, '$1 ');
    if (type === 'objectid' && !value.startsWith('.')) value = `.${value}`;
    out.push({ oid, parts: split(oid), type, value });
  }
  out.sort((a, b) => cmp(a.parts, b.parts));
  rows = out;
}

const reply = (r) => process.stdout.write(r ? `.${r.oid}\n${r.type}\n${r.value}\n` : 'NONE\n');
const lines = readline.createInterface({ input: process.stdin, terminal: false });
let pending = null; // command waiting for its OID line
let setLines = 0; // "set" carries OID + value lines
lines.on('line', (raw) => {
  const line = raw.trim();
  if (setLines > 0) {
    if (--setLines === 0) process.stdout.write('not-writable\n');
    return;
  }
  if (pending === null) {
    const cmd = line.toLowerCase();
    if (cmd === 'ping') process.stdout.write('PONG\n');
    else if (cmd === 'get' || cmd === 'getnext') pending = cmd;
    else if (cmd === 'set') setLines = 2;
    else if (cmd === '') process.exit(0);
    return;
  }
  const cmd = pending;
  pending = null;
  load();
  const want = split(line);
  if (cmd === 'get') return reply(rows.find((r) => cmp(r.parts, want) === 0));
  return reply(rows.find((r) => cmp(r.parts, want) > 0));
});
lines.on('close', () => process.exit(0));
