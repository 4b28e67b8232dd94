#!/usr/bin/env node
// record-host-walk.mjs HOST:PORT [COMMUNITY] > host.snmprec - record a PC's or server's
// HOST-RESOURCES-MIB walk (RFC 2790) for fixtures/hosts/, with rds's own SNMP session
// (needs `npm run build`). hrSWRunPath and hrSWRunParameters are left out: they hold the
// machine's paths and command lines.
import { formatSnmprec, openSnmpClient } from '../../dist/core/devices/index.js';

const [where, community = 'public'] = process.argv.slice(2);
if (!where) {
  console.error('usage: record-host-walk.mjs HOST:PORT [COMMUNITY] > host.snmprec');
  process.exit(2);
}
const [address, port] = where.split(':');
const SUBTREES = [
  '1.3.6.1.2.1.1', // system
  '1.3.6.1.2.1.25.1', // hrSystem
  '1.3.6.1.2.1.25.2', // hrStorage
  '1.3.6.1.2.1.25.3.2', // hrDeviceTable
  '1.3.6.1.2.1.25.3.3', // hrProcessorTable
  '1.3.6.1.2.1.25.4.2.1.1', // hrSWRunIndex
  '1.3.6.1.2.1.25.4.2.1.2', // hrSWRunName
  '1.3.6.1.2.1.25.4.2.1.3', // hrSWRunID
  '1.3.6.1.2.1.25.4.2.1.6', // hrSWRunType
  '1.3.6.1.2.1.25.4.2.1.7', // hrSWRunStatus
  '1.3.6.1.2.1.25.5', // hrSWRunPerf
  '1.3.6.1.2.1.25.6', // hrSWInstalled
];
const client = await openSnmpClient({ address, port: Number(port ?? 161), version: '2c', community });
try {
  const walk = new Map();
  for (const subtree of SUBTREES) for (const [oid, value] of await client.walk(subtree)) walk.set(oid, value);
  process.stdout.write(formatSnmprec(walk));
} finally {
  client.close();
}
