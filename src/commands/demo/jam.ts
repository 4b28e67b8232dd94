/** Act two: a paper jam is reported by an agent, taken in by the host, and acknowledged back. */
import { updateSimulatedDevice } from '../../core/devices/index.js';
import { cmd, commands } from './commands.js';
import { at, type Fleet, human } from './context.js';

/** Whether the host's open-faults list shows the jam acknowledged. */
export async function paperJam(fleet: Fleet): Promise<boolean> {
  const { host, shell, tables } = fleet;
  const jam = fleet.input.say('A paper jam is reported and acknowledged');
  const jammed = at(fleet, 2);
  const jammedPrinter = jammed.printers[0] as string;
  updateSimulatedDevice(fleet.printersFile, jammedPrinter, (d) => ({ ...d, status: 'down', faults: [{ code: 'jam', subunit: 'tray 2' }] }));
  jam(shell(jammed, 'watch-faults'));
  jam(`${jammed.id} (${jammed.note}): ${human((await cmd(commands.watchFaults, jammed)).text)}`);
  jam(shell(host, 'inbox'));
  jam(`host inbox: ${human((await cmd(commands.inbox, host)).text).replace(/\n/g, ', ')}`);
  jam(shell(jammed, 'poll-mail'));
  jam(`${jammed.id} reads its mail: ${human((await cmd(commands.pollMail, jammed)).text)}`);
  const listed = await cmd(commands.faultsList, host, { open: true });
  const faults = listed.data as { faults: { acked: boolean; code: string }[] };
  tables.faults = listed.data;
  jam(shell(host, 'faults list --open'));
  for (const line of human(listed.text).split('\n')) jam(`  ${line}`);
  return faults.faults.some((f) => f.code === 'jam' && f.acked);
}
