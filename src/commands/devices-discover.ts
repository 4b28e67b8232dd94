import { addDiscovered, type Discovered, matchFound, parseScanTargets, scanAddresses } from '../core/devices/index.js';
import { UsageError } from '../core/errors.js';
import { openContext } from './context.js';
import { progress } from './progress.js';
import type { devicesDiscover } from './specs/agent.js';
import type { OptionsOf } from './specs/define.js';
import { formatTable } from './table.js';
import type { CommandResult, GlobalOptions } from './types.js';

function port(text: string, flag: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) throw new UsageError('BAD_OPTION', `${flag} '${text.slice(0, 20)}' is not a port (1 to 65535)`);
  return n;
}

const STATUS: Record<Discovered['status'], (d: Discovered) => string> = {
  new: () => 'no',
  watched: (d) => `yes: ${d.deviceId}`,
  moved: (d) => `moved: ${d.deviceId} (was ${d.previousAddress})`,
  added: (d) => `added: ${d.deviceId}`,
  updated: (d) => `updated: ${d.deviceId} (was ${d.previousAddress})`,
  skipped: () => 'no (not a printer or host)',
};

export async function run(options: OptionsOf<typeof devicesDiscover>, globals: GlobalOptions): Promise<CommandResult> {
  const targets = parseScanTargets(options.args[0] as string);
  const probe = {
    snmpPort: port(options.port, '--port'),
    ippPort: port(options.ippPort, '--ipp-port'),
    community: options.community,
    timeoutMs: Number(options.timeout),
  };
  if (!(probe.timeoutMs >= 50 && probe.timeoutMs <= 10_000)) throw new UsageError('BAD_OPTION', '--timeout is milliseconds, 50 to 10000');
  const ctx = await openContext(globals, 'devices discover', { role: 'agent' });
  try {
    if (!globals.quiet) process.stderr.write(`scanning ${targets.description}: SNMP udp/${probe.snmpPort}, IPP tcp/${probe.ippPort}\n`);
    const shown = progress(globals, 'discover');
    const found = await scanAddresses(targets.addresses, { ...probe, onProbed: (done, total) => shown.update(`${done}/${total}`) });
    shown.stop();
    const matched = matchFound(ctx.db, found);
    const devices = options.add ? addDiscovered(ctx.db, matched, probe, ctx.clock) : matched;
    const text =
      devices.length === 0
        ? `nothing found in ${targets.description}`
        : formatTable(
            ['Address', 'Kind', 'Via', 'Model', 'Serial', 'Watched'],
            devices.map((d) => [d.address, d.kind, d.via, d.model ?? '-', d.serial ?? '-', STATUS[d.status](d)]),
          );
    return { data: { scanned: targets.description, addresses: targets.addresses.length, devices }, text };
  } finally {
    ctx.close();
  }
}
