/**
 * Act six, "three days at the service desk", on a demo clock skipped ahead a day at a time: the
 * first agent's toner goes 31 % -> 19 % (supply-low, with the date the forecast says it runs
 * out), the offline agent says nothing for three days (agent-silent), and the desk address gets
 * the alert mail.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../core/clock.js';
import { updateSimulatedDevice } from '../../core/devices/index.js';
import { cmd, commands } from './commands.js';
import { at, DAY_MS, DESK, type Fleet, TONER } from './context.js';

const clockAt = (days: number): Clock => ({ now: () => new Date(Date.now() + days * DAY_MS) });

/** The subjects of the mails in the desk's Maildir, oldest first. */
async function deskSubjects(mailRoot: string): Promise<string[]> {
  const { mailboxDir } = await import('../../core/mail/maildir-layout.js');
  const box = mailboxDir(mailRoot, DESK);
  return ['new', 'cur'].flatMap((sub) => {
    const dir = path.join(box, sub);
    return fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .sort()
          .map((f) => /^Subject: (.*)$/m.exec(fs.readFileSync(path.join(dir, f), 'utf8'))?.[1] ?? '(no subject)')
      : [];
  });
}

/** Three days pass: the toner readings, the heartbeats, the host's inbox; returns the service lines it printed. */
async function threeDays(fleet: Fleet, step: (line: string) => void): Promise<string> {
  const toner = at(fleet, 0);
  const silent = at(fleet, fleet.offline);
  for (const [day, level] of [
    [1, 27],
    [2, 23],
    [3, 19],
  ] as const) {
    updateSimulatedDevice(fleet.printersFile, toner.printers[0] as string, (d) => ({ ...d, supplies: [TONER(level)] }));
    await cmd(commands.collectCounters, toner, {}, clockAt(day));
  }
  step(`the demo clock skips ahead three days; ${toner.id}'s Black Toner reads 27 %, 23 %, 19 %`);
  step(fleet.shell(toner, 'watch-faults', 'on every agent but the offline one: a heartbeat once a day'));
  const day3 = clockAt(3);
  for (const [i, agent] of fleet.agents.entries()) if (i !== fleet.offline) await cmd(commands.watchFaults, agent, {}, day3);
  step(`${silent.id} is offline: nothing from it for three days`);
  step(fleet.shell(fleet.host, `request-counters --agents ${toner.id}`));
  await cmd(commands.requestCounters, fleet.host, { agents: toner.id }, day3);
  await cmd(commands.pollMail, toner, {}, day3);
  step(fleet.shell(fleet.host, 'inbox'));
  const inbox = await cmd(commands.inbox, fleet.host, {}, day3);
  const serviceLines = String(inbox.text)
    .split('\n')
    .filter((l) => /^(raised|cleared|alert mail)/.test(l));
  for (const line of serviceLines) step(`host inbox: ${line}`);
  return serviceLines.join('\n');
}

export async function serviceDesk(fleet: Fleet): Promise<{ ok: boolean; problem?: string }> {
  const { host, shell, tables } = fleet;
  const step = fleet.input.say('Three days at the service desk');
  const toner = at(fleet, 0);
  const silent = at(fleet, fleet.offline);
  const raised = await threeDays(fleet, step);
  const day3 = clockAt(3);
  step(shell(host, 'supplies list --due 14d'));
  const due = await cmd(commands.suppliesList, host, { due: '14d' }, day3);
  tables.supplies = due.data;
  for (const line of String(due.text).split('\n')) step(`  ${line}`);
  step(shell(host, 'agents list --silent 2d'));
  const quiet = await cmd(commands.agentsList, host, { silent: '2d' }, day3);
  tables.silent = quiet.data;
  for (const line of String(quiet.text).split('\n')) step(`  ${line}`);
  const subjects = await deskSubjects(fleet.input.mailRoot);
  tables.alerts = { to: DESK, subjects };
  step(`${DESK} got ${subjects.length} alert mail${subjects.length === 1 ? '' : 's'} (one per hour at most, events batched):`);
  for (const subject of subjects) step(`  ${subject}`);
  const supplies = (due.data as { supplies: { agentId: string; forecast: { status: string } }[] }).supplies;
  const silentIds = (quiet.data as { agents: { id: string }[] }).agents.map((a) => a.id);
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
