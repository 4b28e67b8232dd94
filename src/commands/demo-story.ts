import fs from 'node:fs';
import path from 'node:path';
import { makeSimulatedPrinter, type SimulatedDevice, updateSimulatedDevice, writeSimulatedFleetFile } from '../core/devices/index.js';
import type { CommandResult, GlobalOptions } from './types.js';

interface StoryInput {
  root: string;
  mailRoot: string;
  smtpPort: number;
  count: number;
  customers: string[];
  say: (title: string) => (line: string) => void;
  globals: GlobalOptions;
}

interface Node {
  id: string;
  address: string;
  dir: string;
  config: string;
}

type Runner = { run: (options: never, globals: GlobalOptions) => Promise<CommandResult> };

const TARGET = '1.0.02-0';

/** A UUID (message or package id): noise in a human line; `--json` keeps the ids. */
const UUID = / ?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const human = (text: unknown) => String(text).replace(UUID, '');

/** The data behind the demo's tables, for `demo --json`. */
export interface DemoTables {
  faults?: unknown;
  counters?: unknown;
  verify?: unknown;
}

/** Run one real command in-process, quietly, and return its result. */
async function cmd(module: Promise<Runner>, node: Node, options: Record<string, unknown> = {}): Promise<CommandResult> {
  const { run } = await module;
  return run(options as never, { config: node.config, quiet: true });
}

const commands = {
  init: () => import('./init.js'),
  keysExport: () => import('./keys-export.js'),
  agentsAdd: () => import('./agents-add.js'),
  devicesAdd: async () => ({ run: (await import('./devices.js')).runAdd }),
  watchFaults: () => import('./watch-faults.js'),
  collectCounters: () => import('./collect-counters.js'),
  pollMail: () => import('./poll-mail.js'),
  inbox: () => import('./inbox.js'),
  faultsList: () => import('./faults-list.js'),
  requestCounters: () => import('./request-counters.js'),
  countersExport: () => import('./counters-export.js'),
  packUpdate: () => import('./pack-update.js'),
  pushAll: () => import('./push-all.js'),
  requestVersions: () => import('./request-versions.js'),
  verify: () => import('./verify.js'),
};

function quietLogs(config: string): void {
  const json = JSON.parse(fs.readFileSync(config, 'utf8'));
  json.logLevel = 'error';
  fs.writeFileSync(config, JSON.stringify(json, null, 2), { mode: 0o600 });
}

async function makeNode(
  input: StoryInput,
  role: 'host' | 'agent',
  id: string,
  address: string,
  extra: Record<string, unknown>,
): Promise<Node> {
  const dir = path.join(input.root, id);
  const config = path.join(dir, 'config.json');
  const { run } = await commands.init();
  await run(
    {
      role,
      id,
      address,
      smtp: `smtp://127.0.0.1:${input.smtpPort}`,
      imap: `maildir://${input.mailRoot}`,
      dir,
      hostId: 'HOST',
      softwareVersion: '1.0.01-1',
      ...extra,
    } as never,
    { config, quiet: true },
  );
  quietLogs(config);
  return { id, address, dir, config };
}

export async function runStory(input: StoryInput): Promise<{ asDesigned: boolean; problem?: string; verify: unknown; tables: DemoTables }> {
  const { say } = input;
  const tables: DemoTables = {};
  // the command line behind a step, to replay it in the --keep folder (`$ ` marks it)
  const shell = (node: Node, args: string, note = '') =>
    `$ rds --config ${path.relative(input.root, node.config)} ${args}${note ? `   # ${note}` : ''}`;
  // ---- the fleet -----------------------------------------------------------
  const setup = say(`A host and ${input.count} agents on an embedded mail system (SMTP on 127.0.0.1:${input.smtpPort}, Maildir folders)`);
  const host = await makeNode(input, 'host', 'HOST', 'host@rds-center.example', {});
  const hostKey = path.join(input.root, 'host.asc');
  fs.writeFileSync(hostKey, String((await cmd(commands.keysExport(), host)).text));
  const printersFile = path.join(input.root, 'printers.json');
  const printers: Record<string, SimulatedDevice> = {};
  const agents: (Node & { note: string; printers: string[] })[] = [];
  const failing = Math.min(7, input.count - 1) - 1; // AGENT0000007's install script fails
  const offline = Math.min(12, input.count) - 1; // AGENT0000012 never reads its mail
  for (let i = 0; i < input.count; i++) {
    const id = `AGENT${String(i + 1).padStart(7, '0')}`;
    const note = input.customers[i % input.customers.length] as string;
    const names = i % 3 === 0 ? [`${id}-mfp1`, `${id}-mfp2`] : [`${id}-mfp1`];
    names.forEach((name, k) => {
      printers[name] = makeSimulatedPrinter(i * 2 + k + 1);
    });
    agents.push({
      ...(await makeNode(input, 'agent', id, `agent${i + 1}@${note.split(' ')[0]}.example`, {
        hostAddress: host.address,
        hostKey,
        softwareVersion: i % 5 === 1 ? '1.0.00-1' : '1.0.01-1',
      })),
      note,
      printers: names,
    });
  }
  writeSimulatedFleetFile(printersFile, printers);
  for (const agent of agents) {
    const keyFile = path.join(input.root, `${agent.id}.asc`);
    fs.writeFileSync(keyFile, String((await cmd(commands.keysExport(), agent)).text));
    await cmd(commands.agentsAdd(), host, { id: agent.id, address: agent.address, key: keyFile, note: agent.note });
    for (const name of agent.printers) await cmd(commands.devicesAdd(), agent, { id: name, driver: 'simulated', file: printersFile, name });
  }
  setup(shell(host, 'agents add --id AGENT0000001 --address … --key AGENT0000001.asc --note …', 'for every agent'));
  setup(shell(agents[0] as Node, 'devices add --id AGENT0000001-mfp1 --driver simulated --file printers.json', 'on every agent'));
  setup(`registered ${agents.length} agents watching ${Object.keys(printers).length} simulated printers`);
  for (const agent of agents) await cmd(commands.watchFaults(), agent);

  // ---- a paper jam -------------------------------------------------------------
  const jam = say('A paper jam is reported and acknowledged');
  const jammed = agents[2] as (typeof agents)[number];
  const jammedPrinter = jammed.printers[0] as string;
  updateSimulatedDevice(printersFile, jammedPrinter, (d) => ({ ...d, status: 'down', faults: [{ code: 'jam', subunit: 'tray 2' }] }));
  jam(shell(jammed, 'watch-faults'));
  jam(`${jammed.id} (${jammed.note}): ${human((await cmd(commands.watchFaults(), jammed)).text)}`);
  jam(shell(host, 'inbox'));
  jam(`host inbox: ${human((await cmd(commands.inbox(), host)).text)}`);
  jam(shell(jammed, 'poll-mail'));
  jam(`${jammed.id} reads its mail: ${human((await cmd(commands.pollMail(), jammed)).text)}`);
  const listed = await cmd(commands.faultsList(), host, { open: true });
  const faults = listed.data as { faults: { acked: boolean; code: string }[] };
  tables.faults = listed.data;
  jam(shell(host, 'faults list --open'));
  for (const line of human(listed.text).split('\n')) jam(`  ${line}`);
  const jamAcked = faults.faults.some((f) => f.code === 'jam' && f.acked);

  // ---- counters -------------------------------------------------------------
  const counters = say('Counters are read on every agent, requested by the host, and come back');
  counters(shell(agents[0] as Node, 'collect-counters', 'on every agent'));
  for (const agent of agents) await cmd(commands.collectCounters(), agent);
  counters(shell(host, 'request-counters'));
  counters(`host: ${human((await cmd(commands.requestCounters(), host)).text)}`);
  counters(shell(agents[0] as Node, 'poll-mail', 'on every agent'));
  for (const agent of agents) await cmd(commands.pollMail(), agent);
  counters(shell(host, 'inbox'));
  counters(`host inbox: ${human((await cmd(commands.inbox(), host)).text).replace(/\n/g, ', ')}`);
  const exportedResult = await cmd(commands.countersExport(), host);
  tables.counters = exportedResult.data;
  counters(shell(host, 'counters export'));
  const exported = human(exportedResult.text).split('\n');
  for (const line of exported.slice(0, 7)) counters(`  ${line}`);
  if (exported.length > 7) counters(`  … ${exported.length - 7} more readings (rds counters export --csv)`);

  // ---- the update -------------------------------------------------------------
  const update = say(`Update ${TARGET} is packed once and pushed to every agent`);
  const script = path.join(input.root, 'install.sh');
  fs.writeFileSync(
    script,
    '#!/bin/sh\nset -e\nif [ -e "$RDS_INSTALL_ROOT/simulate-disk-full" ]; then echo "cp: error writing main.cgi: No space left on device" >&2; exit 1; fi\ncp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"\necho "installed $RDS_TARGET_VERSION"\n',
    { mode: 0o755 },
  );
  const moduleFile = path.join(input.root, 'main.cgi');
  fs.writeFileSync(moduleFile, '#!/bin/sh\necho "main.cgi 1.0.02"\n');
  const pkg = path.join(input.root, `update-${TARGET}.rdsu`);
  update(
    shell(host, `pack-update --software-version ${TARGET} --script install.sh --module main.cgi=1.0.02:main.cgi -o update-${TARGET}.rdsu`),
  );
  update(
    String(
      (
        await cmd(commands.packUpdate(), host, {
          softwareVersion: TARGET,
          script,
          module: [`main.cgi=1.0.02:${moduleFile}`],
          timeout: '1m',
          output: pkg,
        })
      ).text,
    ).split('\n')[0] as string,
  );
  update(shell(host, `push-all update-${TARGET}.rdsu`));
  const pushed = await (await commands.pushAll()).run({ args: [pkg] } as never, { config: host.config, quiet: !process.stderr.isTTY });
  update(human(pushed.text).split('\n')[0] as string);
  fs.writeFileSync(path.join((agents[failing] as Node).dir, 'install', 'simulate-disk-full'), '');
  update(`${(agents[failing] as Node).id}'s disk is full: its install script will fail`);
  update(`${(agents[offline] as Node).id} is offline: it will never read its mail`);
  update(shell(agents[0] as Node, 'poll-mail', 'on every agent but the offline one'));
  let notShown = 0;
  for (const [i, agent] of agents.entries()) {
    if (i === offline) continue;
    const result = await cmd(commands.pollMail(), agent);
    if (i === failing || i < 2) update(`${agent.id}: ${human(result.text).split('\n')[0]}`);
    else notShown++;
  }
  if (notShown > 0) update(`… and ${notShown} more agent${notShown === 1 ? '' : 's'} installed it`);

  // ---- versions and verify ----------------------------------------------------------
  const versions = say('The host asks every agent for its versions');
  versions(shell(host, 'request-versions'));
  versions(human((await cmd(commands.requestVersions(), host)).text));
  versions(shell(agents[0] as Node, 'poll-mail', 'on every agent but the offline one'));
  for (const [i, agent] of agents.entries()) if (i !== offline) await cmd(commands.pollMail(), agent);
  versions(shell(host, 'inbox'));
  versions(`host inbox: ${human((await cmd(commands.inbox(), host)).text).replace(/\n/g, ', ')}`);

  const verifyStep = say(`The host verifies the rollout to ${TARGET}`);
  const verified = await cmd(commands.verify(), host, { target: TARGET });
  tables.verify = verified.data;
  verifyStep(shell(host, `verify --target ${TARGET}`));
  for (const line of human(verified.text).split('\n')) verifyStep(line);
  const report = verified.data as { agents: { agentId: string; failed: boolean; reason: string | null }[] };
  const failedNow = report.agents.filter((a) => a.failed).map((a) => `${a.agentId}:${a.reason}`);
  const expected = [`${(agents[failing] as Node).id}:rolled-back`, `${(agents[offline] as Node).id}:no-reply`];
  const asDesigned = jamAcked && JSON.stringify(failedNow) === JSON.stringify(expected);
  return {
    asDesigned,
    ...(asDesigned ? {} : { problem: `jam acked: ${jamAcked}; failed agents: ${failedNow.join(', ')}; expected ${expected.join(', ')}` }),
    verify: verified.data,
    tables,
  };
}
