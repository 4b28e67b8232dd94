import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import { makeSimulatedPrinter, type SimulatedDevice, updateSimulatedDevice, writeSimulatedFleetFile } from '../core/devices/index.js';
import * as agent from './specs/agent.js';
import { type CommandSpec, type OptionsOf, optionsWithDefaults, type Typed, typed } from './specs/define.js';
import * as fleet from './specs/fleet.js';
import * as host_ from './specs/host.js';
import * as shared from './specs/shared.js';
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

const TARGET = '1.0.02-0';
const TONER = (percent: number) => ({ description: 'Black Toner', type: 'toner', class: 'consumed' as const, percent });

/** A UUID (message or package id): noise in a human line; `--json` keeps the ids. */
const UUID = / ?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const human = (text: unknown) => String(text).replace(UUID, '');

/** The data behind the demo's tables, for `demo --json`. */
export interface DemoTables {
  faults?: unknown;
  counters?: unknown;
  verify?: unknown;
  supplies?: unknown;
  silent?: unknown;
  alerts?: unknown;
}

/** Run one real command in-process, quietly, with the options its command line would give, and return its result. */
async function cmd<S extends CommandSpec>(
  command: Typed<S>,
  node: Node,
  options: Partial<OptionsOf<S>> = {},
  clock?: Clock,
): Promise<CommandResult> {
  const run = await command.load();
  return run(optionsWithDefaults(command.spec, options), { config: node.config, quiet: true, ...(clock ? { clock } : {}) });
}

const commands = {
  init: typed(shared.init, async () => (await import('./init.js')).run),
  keysExport: typed(shared.keysExport, async () => (await import('./keys-export.js')).run),
  agentsAdd: typed(fleet.agentsAdd, async () => (await import('./agents-add.js')).run),
  devicesAdd: typed(agent.devicesAdd, async () => (await import('./devices.js')).runAdd),
  watchFaults: typed(agent.watchFaults, async () => (await import('./watch-faults.js')).run),
  collectCounters: typed(agent.collectCounters, async () => (await import('./collect-counters.js')).run),
  pollMail: typed(agent.pollMail, async () => (await import('./poll-mail.js')).run),
  inbox: typed(host_.inbox, async () => (await import('./inbox.js')).run),
  faultsList: typed(fleet.faultsList, async () => (await import('./faults-list.js')).run),
  requestCounters: typed(host_.requestCounters, async () => (await import('./request-counters.js')).run),
  countersExport: typed(fleet.countersExport, async () => (await import('./counters-export.js')).run),
  packUpdate: typed(host_.packUpdate, async () => (await import('./pack-update.js')).run),
  pushAll: typed(host_.pushAll, async () => (await import('./push-all.js')).run),
  requestVersions: typed(host_.requestVersions, async () => (await import('./request-versions.js')).run),
  verify: typed(host_.verify, async () => (await import('./verify.js')).run),
  suppliesList: typed(fleet.suppliesList, async () => (await import('./supplies-list.js')).run),
  agentsList: typed(fleet.agentsList, async () => (await import('./agents-list.js')).run),
};

const DESK = 'desk@rds-center.example';
const DAY_MS = 86_400_000;

function editConfig(config: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(config, 'utf8'));
  edit(json);
  fs.writeFileSync(config, JSON.stringify(json, null, 2), { mode: 0o600 });
}

function quietLogs(config: string): void {
  editConfig(config, (json) => {
    json.logLevel = 'error';
  });
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
  await commands.init.load().then((run) =>
    run(
      optionsWithDefaults(shared.init, {
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
    ),
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
  // the service desk gets every event by mail, at most one mail an hour (docs/service.md)
  editConfig(host.config, (c) => {
    c.service = { alerts: { interval: '1h', routes: [{ to: [DESK] }] } };
  });
  const hostKey = path.join(input.root, 'host.asc');
  fs.writeFileSync(hostKey, String((await cmd(commands.keysExport, host)).text));
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
    if (i === 0) printers[names[0] as string] = { ...(printers[names[0] as string] as SimulatedDevice), supplies: [TONER(31)] };
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
    fs.writeFileSync(keyFile, String((await cmd(commands.keysExport, agent)).text));
    await cmd(commands.agentsAdd, host, { id: agent.id, address: agent.address, key: keyFile, note: agent.note });
    for (const name of agent.printers) await cmd(commands.devicesAdd, agent, { id: name, driver: 'simulated', file: printersFile, name });
  }
  setup(shell(host, 'agents add --id AGENT0000001 --address … --key AGENT0000001.asc --note …', 'for every agent'));
  setup(shell(agents[0] as Node, 'devices add --id AGENT0000001-mfp1 --driver simulated --file printers.json', 'on every agent'));
  setup(`registered ${agents.length} agents watching ${Object.keys(printers).length} simulated printers`);
  for (const agent of agents) await cmd(commands.watchFaults, agent);

  // ---- a paper jam -------------------------------------------------------------
  const jam = say('A paper jam is reported and acknowledged');
  const jammed = agents[2] as (typeof agents)[number];
  const jammedPrinter = jammed.printers[0] as string;
  updateSimulatedDevice(printersFile, jammedPrinter, (d) => ({ ...d, status: 'down', faults: [{ code: 'jam', subunit: 'tray 2' }] }));
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
  const jamAcked = faults.faults.some((f) => f.code === 'jam' && f.acked);

  // ---- counters -------------------------------------------------------------
  const counters = say('Counters are read on every agent, requested by the host, and come back');
  counters(shell(agents[0] as Node, 'collect-counters', 'on every agent'));
  for (const agent of agents) await cmd(commands.collectCounters, agent);
  counters(shell(host, 'request-counters'));
  counters(`host: ${human((await cmd(commands.requestCounters, host)).text)}`);
  counters(shell(agents[0] as Node, 'poll-mail', 'on every agent'));
  for (const agent of agents) await cmd(commands.pollMail, agent);
  counters(shell(host, 'inbox'));
  counters(`host inbox: ${human((await cmd(commands.inbox, host)).text).replace(/\n/g, ', ')}`);
  const exportedResult = await cmd(commands.countersExport, host);
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
        await cmd(commands.packUpdate, host, {
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
  const pushAll = await commands.pushAll.load();
  const pushed = await pushAll(optionsWithDefaults(host_.pushAll, { args: [pkg] }), { config: host.config, quiet: !process.stderr.isTTY });
  update(human(pushed.text).split('\n')[0] as string);
  fs.writeFileSync(path.join((agents[failing] as Node).dir, 'install', 'simulate-disk-full'), '');
  update(`${(agents[failing] as Node).id}'s disk is full: its install script will fail`);
  update(`${(agents[offline] as Node).id} is offline: it will never read its mail`);
  update(shell(agents[0] as Node, 'poll-mail', 'on every agent but the offline one'));
  let notShown = 0;
  for (const [i, agent] of agents.entries()) {
    if (i === offline) continue;
    const result = await cmd(commands.pollMail, agent);
    if (i === failing || i < 2) update(`${agent.id}: ${human(result.text).split('\n')[0]}`);
    else notShown++;
  }
  if (notShown > 0) update(`… and ${notShown} more agent${notShown === 1 ? '' : 's'} installed it`);

  // ---- versions and verify ----------------------------------------------------------
  const versions = say('The host asks every agent for its versions');
  versions(shell(host, 'request-versions'));
  versions(human((await cmd(commands.requestVersions, host)).text));
  versions(shell(agents[0] as Node, 'poll-mail', 'on every agent but the offline one'));
  for (const [i, agent] of agents.entries()) if (i !== offline) await cmd(commands.pollMail, agent);
  versions(shell(host, 'inbox'));
  versions(`host inbox: ${human((await cmd(commands.inbox, host)).text).replace(/\n/g, ', ')}`);

  const verifyStep = say(`The host verifies the rollout to ${TARGET}`);
  const verified = await cmd(commands.verify, host, { target: TARGET });
  tables.verify = verified.data;
  verifyStep(shell(host, `verify --target ${TARGET}`));
  for (const line of human(verified.text).split('\n')) verifyStep(line);
  const service = await serviceDesk(input, { host, agents, offline, printersFile, shell, tables });

  const report = verified.data as { agents: { agentId: string; failed: boolean; reason: string | null }[] };
  const failedNow = report.agents.filter((a) => a.failed).map((a) => `${a.agentId}:${a.reason}`);
  const expected = [`${(agents[failing] as Node).id}:rolled-back`, `${(agents[offline] as Node).id}:no-reply`];
  const asDesigned = jamAcked && service.ok && JSON.stringify(failedNow) === JSON.stringify(expected);
  return {
    asDesigned,
    ...(asDesigned
      ? {}
      : {
          problem: `jam acked: ${jamAcked}; service desk: ${service.problem ?? 'ok'}; failed agents: ${failedNow.join(', ')}; expected ${expected.join(', ')}`,
        }),
    verify: verified.data,
    tables,
  };
}

/**
 * "Three days at the service desk", on a demo clock skipped ahead a day at a time: the first
 * agent's toner goes 31 % -> 19 % (supply-low, with the date the forecast says it runs out),
 * the offline agent says nothing for three days (agent-silent), and the desk address gets
 * the alert mail.
 */
async function serviceDesk(
  input: StoryInput,
  s: {
    host: Node;
    agents: (Node & { printers: string[] })[];
    offline: number;
    printersFile: string;
    shell: (node: Node, args: string, note?: string) => string;
    tables: DemoTables;
  },
): Promise<{ ok: boolean; problem?: string }> {
  const step = input.say('Three days at the service desk');
  const toner = s.agents[0] as (typeof s.agents)[number];
  const silent = s.agents[s.offline] as Node;
  const clockAt = (days: number): Clock => ({ now: () => new Date(Date.now() + days * DAY_MS) });
  for (const [day, level] of [
    [1, 27],
    [2, 23],
    [3, 19],
  ] as const) {
    updateSimulatedDevice(s.printersFile, toner.printers[0] as string, (d) => ({ ...d, supplies: [TONER(level)] }));
    await cmd(commands.collectCounters, toner, {}, clockAt(day));
  }
  step(`the demo clock skips ahead three days; ${toner.id}'s Black Toner reads 27 %, 23 %, 19 %`);
  step(s.shell(toner, 'watch-faults', 'on every agent but the offline one: a heartbeat once a day'));
  const day3 = clockAt(3);
  for (const [i, agent] of s.agents.entries()) if (i !== s.offline) await cmd(commands.watchFaults, agent, {}, day3);
  step(`${silent.id} is offline: nothing from it for three days`);
  step(s.shell(s.host, `request-counters --agents ${toner.id}`));
  await cmd(commands.requestCounters, s.host, { agents: toner.id }, day3);
  await cmd(commands.pollMail, toner, {}, day3);
  step(s.shell(s.host, 'inbox'));
  const inbox = await cmd(commands.inbox, s.host, {}, day3);
  const serviceLines = String(inbox.text)
    .split('\n')
    .filter((l) => /^(raised|cleared|alert mail)/.test(l));
  for (const line of serviceLines) step(`host inbox: ${line}`);
  step(s.shell(s.host, 'supplies list --due 14d'));
  const due = await cmd(commands.suppliesList, s.host, { due: '14d' }, day3);
  s.tables.supplies = due.data;
  for (const line of String(due.text).split('\n')) step(`  ${line}`);
  step(s.shell(s.host, 'agents list --silent 2d'));
  const quiet = await cmd(commands.agentsList, s.host, { silent: '2d' }, day3);
  s.tables.silent = quiet.data;
  for (const line of String(quiet.text).split('\n')) step(`  ${line}`);
  const { mailboxDir } = await import('../core/mail/maildir-layout.js');
  const box = mailboxDir(input.mailRoot, DESK);
  const subjects = ['new', 'cur'].flatMap((sub) => {
    const dir = path.join(box, sub);
    return fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .sort()
          .map((f) => /^Subject: (.*)$/m.exec(fs.readFileSync(path.join(dir, f), 'utf8'))?.[1] ?? '(no subject)')
      : [];
  });
  s.tables.alerts = { to: DESK, subjects };
  step(`${DESK} got ${subjects.length} alert mail${subjects.length === 1 ? '' : 's'} (one per hour at most, events batched):`);
  for (const subject of subjects) step(`  ${subject}`);
  const supplies = (due.data as { supplies: { agentId: string; forecast: { status: string } }[] }).supplies;
  const silentIds = (quiet.data as { agents: { id: string }[] }).agents.map((a) => a.id);
  const raised = serviceLines.join('\n');
  const ok =
    raised.includes(`raised supply-low on ${toner.id}/`) &&
    raised.includes(`raised agent-silent on ${silent.id}`) &&
    supplies.some((x) => x.agentId === toner.id && x.forecast.status === 'forecast') &&
    JSON.stringify(silentIds) === JSON.stringify([silent.id]) &&
    subjects.some((x) => x.includes('supply-low') || x.includes('agent-silent'));
  return ok
    ? { ok }
    : { ok, problem: `service lines: ${raised.replace(/\n/g, '; ')}; silent: ${silentIds.join(',')}; desk mails: ${subjects.length}` };
}
