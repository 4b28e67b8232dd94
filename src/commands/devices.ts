import {
  addDevice,
  deviceTable,
  listDevices,
  parseDeviceAddress,
  redactDeviceConfig,
  redactedDevices,
  removeDevice,
} from '../core/devices/index.js';
import { UsageError } from '../core/errors.js';
import { openContext } from './context.js';
import type { devicesAdd, devicesRemove } from './specs/agent.js';
import type { OptionsOf } from './specs/define.js';
import type { CommandResult, GlobalOptions } from './types.js';

export type DevicesAddOptions = OptionsOf<typeof devicesAdd>;

const V3_OPTIONS: [keyof DevicesAddOptions, string][] = [
  ['v3User', '--v3-user'],
  ['v3Level', '--v3-level'],
  ['v3AuthProtocol', '--v3-auth-protocol'],
  ['v3AuthKey', '--v3-auth-key'],
  ['v3PrivProtocol', '--v3-priv-protocol'],
  ['v3PrivKey', '--v3-priv-key'],
  ['v3Context', '--v3-context'],
];

function snmpConfig(o: DevicesAddOptions): Record<string, unknown> {
  if (!o.address) throw new UsageError('MISSING_OPTION', 'an snmp device needs --address HOST[:PORT]');
  const { address, port } = parseDeviceAddress(o.address);
  const version = o.snmpVersion ?? '2c';
  const v3Given = V3_OPTIONS.filter(([key]) => o[key] !== undefined).map(([, flag]) => flag);
  if (version !== '3' && v3Given.length > 0) {
    throw new UsageError(
      'BAD_OPTION',
      `${v3Given.join(', ')} ${v3Given.length === 1 ? 'is an SNMPv3 option' : 'are SNMPv3 options'}: add --snmp-version 3 (without it the device would be SNMP v${version})`,
    );
  }
  return {
    address,
    ...(port ? { port } : {}),
    version,
    ...(version !== '3' ? { community: o.community ?? 'public' } : {}),
    ...(version === '3'
      ? {
          v3: {
            user: o.v3User,
            level: o.v3Level ?? 'authPriv',
            ...(o.v3AuthProtocol ? { authProtocol: o.v3AuthProtocol } : {}),
            ...(o.v3AuthKey ? { authKey: o.v3AuthKey } : {}),
            ...(o.v3PrivProtocol ? { privProtocol: o.v3PrivProtocol } : {}),
            ...(o.v3PrivKey ? { privKey: o.v3PrivKey } : {}),
            ...(o.v3Context ? { context: o.v3Context } : {}),
          },
        }
      : {}),
    ...(o.timeout ? { timeoutMs: Number(o.timeout) } : {}),
    ...(o.retries ? { retries: Number(o.retries) } : {}),
    ...(o.kind ? { kind: o.kind } : {}),
    ...(o.diskThreshold || o.memoryThreshold ? { thresholds: { diskPercent: o.diskThreshold, memoryPercent: o.memoryThreshold } } : {}),
  };
}

export async function runAdd(options: DevicesAddOptions, globals: GlobalOptions): Promise<CommandResult> {
  const config =
    options.driver === 'snmp'
      ? snmpConfig(options)
      : options.driver === 'ipp'
        ? { url: options.address, ...(options.timeout ? { timeoutMs: Number(options.timeout) } : {}) }
        : { file: options.file, ...(options.name ? { name: options.name } : {}) };
  const ctx = await openContext(globals, 'devices add', { role: 'agent' });
  try {
    const device = addDevice(ctx.db, { id: options.id, driver: options.driver, config }, ctx.clock);
    return { data: { ...device, config: redactDeviceConfig(device) }, text: `added device ${device.id} (${device.driver})` };
  } finally {
    ctx.close();
  }
}

export async function runList(_options: unknown, globals: GlobalOptions): Promise<CommandResult> {
  const ctx = await openContext(globals, 'devices list', { role: 'agent' });
  try {
    const devices = redactedDevices(listDevices(ctx.db));
    return { data: { devices }, text: deviceTable(devices) };
  } finally {
    ctx.close();
  }
}

export async function runRemove(options: OptionsOf<typeof devicesRemove>, globals: GlobalOptions): Promise<CommandResult> {
  const id = options.args[0] as string;
  const ctx = await openContext(globals, 'devices remove', { role: 'agent' });
  try {
    if (!removeDevice(ctx.db, id, ctx.clock)) throw new UsageError('UNKNOWN_DEVICE', `no device '${id}'`);
    return { data: { removed: id }, text: `removed device ${id}` };
  } finally {
    ctx.close();
  }
}
