/** Act five: the host asks every agent for its versions and verifies the rollout. */
import { cmd, commands } from './commands.js';
import { at, type Fleet, human, TARGET } from './context.js';

export interface VerifyReport {
  agents: { agentId: string; failed: boolean; reason: string | null }[];
}

/** The verify data; `failed` lists the failed agents as `ID:reason`. */
export async function versionsAndVerify(fleet: Fleet): Promise<{ data: unknown; failed: string[] }> {
  const { host, agents, offline, shell } = fleet;
  const versions = fleet.input.say('The host asks every agent for its versions');
  versions(shell(host, 'request-versions'));
  versions(human((await cmd(commands.requestVersions, host)).text));
  versions(shell(at(fleet, 0), 'poll-mail', 'on every agent but the offline one'));
  for (const [i, agent] of agents.entries()) if (i !== offline) await cmd(commands.pollMail, agent);
  versions(shell(host, 'inbox'));
  versions(`host inbox: ${human((await cmd(commands.inbox, host)).text).replace(/\n/g, ', ')}`);

  const step = fleet.input.say(`The host verifies the rollout to ${TARGET}`);
  const verified = await cmd(commands.verify, host, { target: TARGET });
  fleet.tables.verify = verified.data;
  step(shell(host, `verify --target ${TARGET}`));
  for (const line of human(verified.text).split('\n')) step(line);
  const report = verified.data as VerifyReport;
  return { data: verified.data, failed: report.agents.filter((a) => a.failed).map((a) => `${a.agentId}:${a.reason}`) };
}
