/** Act one: a host and the agents on the embedded mail system, each agent watching simulated printers. */
import fs from 'node:fs';
import path from 'node:path';
import { makeSimulatedPrinter, type SimulatedDevice, writeSimulatedFleetFile } from '../../core/devices/index.js';
import { type OptionsOf, optionsWithDefaults } from '../specs/define.js';
import type * as shared from '../specs/shared.js';
import { cmd, commands } from './commands.js';
import { type Agent, DESK, type Fleet, type Node, type StoryInput, shellFor, TONER } from './context.js';

function editConfig(config: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(config, 'utf8'));
  edit(json);
  fs.writeFileSync(config, JSON.stringify(json, null, 2), { mode: 0o600 });
}

async function makeNode(
  input: StoryInput,
  role: 'host' | 'agent',
  id: string,
  address: string,
  extra: Partial<OptionsOf<typeof shared.init>>,
): Promise<Node> {
  const dir = path.join(input.root, id);
  const config = path.join(dir, 'config.json');
  const init = await commands.init.load();
  await init(
    optionsWithDefaults(commands.init.spec, {
      role,
      id,
      address,
      smtp: `smtp://127.0.0.1:${input.smtpPort}`,
      imap: `maildir://${input.mailRoot}`,
      dir,
      hostId: 'HOST',
      softwareVersion: '1.0.01-1',
      ...extra,
    }),
    { config, quiet: true },
  );
  editConfig(config, (json) => {
    json.logLevel = 'error';
  });
  return { id, address, dir, config };
}

/** The agents, their printers written to one simulated-fleet file. */
async function makeAgents(input: StoryInput, host: Node, hostKey: string, printersFile: string): Promise<Agent[]> {
  const printers: Record<string, SimulatedDevice> = {};
  const agents: Agent[] = [];
  for (let i = 0; i < input.count; i++) {
    const id = `AGENT${String(i + 1).padStart(7, '0')}`;
    const note = input.customers[i % input.customers.length] as string;
    const names = i % 3 === 0 ? [`${id}-mfp1`, `${id}-mfp2`] : [`${id}-mfp1`];
    names.forEach((name, k) => {
      printers[name] = makeSimulatedPrinter(i * 2 + k + 1);
    });
    if (i === 0) printers[names[0] as string] = { ...(printers[names[0] as string] as SimulatedDevice), supplies: [TONER(31)] };
    const node = await makeNode(input, 'agent', id, `agent${i + 1}@${note.split(' ')[0]}.example`, {
      hostAddress: host.address,
      hostKey,
      softwareVersion: i % 5 === 1 ? '1.0.00-1' : '1.0.01-1',
    });
    agents.push({ ...node, note, printers: names });
  }
  writeSimulatedFleetFile(printersFile, printers);
  return agents;
}

export async function buildFleet(input: StoryInput): Promise<Fleet> {
  const setup = input.say(
    `A host and ${input.count} agents on an embedded mail system (SMTP on 127.0.0.1:${input.smtpPort}, Maildir folders)`,
  );
  const host = await makeNode(input, 'host', 'HOST', 'host@rds-center.example', {});
  // the service desk gets every event by mail, at most one mail an hour (docs/service.md)
  editConfig(host.config, (c) => {
    c.service = { alerts: { interval: '1h', routes: [{ to: [DESK] }] } };
  });
  const hostKey = path.join(input.root, 'host.asc');
  fs.writeFileSync(hostKey, String((await cmd(commands.keysExport, host)).text));
  const printersFile = path.join(input.root, 'printers.json');
  const agents = await makeAgents(input, host, hostKey, printersFile);
  for (const agent of agents) {
    const keyFile = path.join(input.root, `${agent.id}.asc`);
    fs.writeFileSync(keyFile, String((await cmd(commands.keysExport, agent)).text));
    await cmd(commands.agentsAdd, host, { id: agent.id, address: agent.address, key: keyFile, note: agent.note });
    for (const name of agent.printers) await cmd(commands.devicesAdd, agent, { id: name, driver: 'simulated', file: printersFile, name });
  }
  const shell = shellFor(input.root);
  setup(shell(host, 'agents add --id AGENT0000001 --address … --key AGENT0000001.asc --note …', 'for every agent'));
  setup(shell(agents[0] as Node, 'devices add --id AGENT0000001-mfp1 --driver simulated --file printers.json', 'on every agent'));
  const printerCount = agents.reduce((n, a) => n + a.printers.length, 0);
  setup(`registered ${agents.length} agents watching ${printerCount} simulated printers`);
  for (const agent of agents) await cmd(commands.watchFaults, agent);
  return {
    input,
    host,
    agents,
    printersFile,
    failing: Math.min(7, input.count - 1) - 1, // AGENT0000007's install script fails
    offline: Math.min(12, input.count) - 1, // AGENT0000012 never reads its mail
    tables: {},
    shell,
  };
}
