/** Act three: counters are read on every agent, requested by the host, and come back. */
import { cmd, commands } from './commands.js';
import { at, type Fleet, human } from './context.js';

export async function counters(fleet: Fleet): Promise<void> {
  const { host, agents, shell, tables } = fleet;
  const step = fleet.input.say('Counters are read on every agent, requested by the host, and come back');
  step(shell(at(fleet, 0), 'collect-counters', 'on every agent'));
  for (const agent of agents) await cmd(commands.collectCounters, agent);
  step(shell(host, 'request-counters'));
  step(`host: ${human((await cmd(commands.requestCounters, host)).text)}`);
  step(shell(at(fleet, 0), 'poll-mail', 'on every agent'));
  for (const agent of agents) await cmd(commands.pollMail, agent);
  step(shell(host, 'inbox'));
  step(`host inbox: ${human((await cmd(commands.inbox, host)).text).replace(/\n/g, ', ')}`);
  const exportedResult = await cmd(commands.countersExport, host);
  tables.counters = exportedResult.data;
  step(shell(host, 'counters export'));
  const exported = human(exportedResult.text).split('\n');
  for (const line of exported.slice(0, 7)) step(`  ${line}`);
  if (exported.length > 7) step(`  … ${exported.length - 7} more readings (rds counters export --csv)`);
}
