/**
 * Act four, on: wave after wave the agents read their mail and `rollout advance` opens the
 * next one; the disk-full agent fails within the budget, so the rollout goes on; the offline
 * agent is re-sent its update and then times out, on the demo clock skipped ahead past the
 * timeout (no real waiting); `rollout status` shows where it ended.
 */
import type { Clock } from '../../core/clock.js';
import { cmd, commands } from './commands.js';
import { type Agent, at, type Fleet, human } from './context.js';
import { PLAN } from './update.js';

const HOUR_MS = 3_600_000;

interface StatusData {
  state: string;
  agents: { agentId: string; wave: number; state: string; reason: string | null }[];
}

/** `rollout advance` on the host; its lines about rollouts, shown. */
async function advance(fleet: Fleet, step: (line: string) => void, clock?: Clock): Promise<void> {
  step(fleet.shell(fleet.host, 'rollout advance'));
  const moved = await cmd(commands.rolloutAdvance, fleet.host, {}, clock);
  const lines = human(moved.text)
    .split('\n')
    .filter((l) => !l.startsWith('mail:'));
  step(`host: ${lines.join(', ')}`);
}

/** Every agent of one wave but the offline one reads its mail; the canary, the failing agent and the first one are shown. */
async function pollWave(fleet: Fleet, step: (line: string) => void, wave: number, members: Agent[]): Promise<void> {
  const offline = at(fleet, fleet.offline);
  const failing = at(fleet, fleet.failing);
  const note = wave === 1 ? 'the canary' : `on every agent of wave ${wave}${members.includes(offline) ? ' but the offline one' : ''}`;
  step(fleet.shell(members[0] as Agent, 'poll-mail', note));
  let notShown = 0;
  for (const [i, agent] of members.entries()) {
    if (agent === offline) continue;
    const result = await cmd(commands.pollMail, agent);
    if (agent === failing || i === 0) step(`${agent.id}: ${human(result.text).split('\n')[0]}`);
    else notShown++;
  }
  if (notShown > 0) step(`… and ${notShown} more agent${notShown === 1 ? '' : 's'} installed it`);
}

/** The waves to the end; whether `rollout status` shows exactly the expected end. */
export async function waves(fleet: Fleet, step: (line: string) => void): Promise<{ ok: boolean; problem?: string }> {
  const plan = (await cmd(commands.rolloutStatus, fleet.host)).data as StatusData;
  const count = Math.max(...plan.agents.map((a) => a.wave));
  const byId = new Map(fleet.agents.map((a) => [a.id, a]));
  for (let wave = 1; wave <= count; wave++) {
    const members = plan.agents.filter((a) => a.wave === wave).map((a) => byId.get(a.agentId) as Agent);
    await pollWave(fleet, step, wave, members);
    await advance(fleet, step);
    if (members.includes(at(fleet, fleet.failing)) && wave < count) {
      step(`${at(fleet, fleet.failing).id} failed: within --max-failures ${PLAN.maxFailures}, so the rollout goes on`);
    }
  }
  const offline = at(fleet, fleet.offline);
  // past the deadline: a re-send; past the re-send's deadline: timed out
  for (const [i, hours] of [2, 4].entries()) {
    const clock: Clock = { now: () => new Date(Date.now() + hours * HOUR_MS + (i + 1) * 60_000) };
    step(`the demo clock skips ahead ${hours} hours (--timeout ${PLAN.timeout}): ${offline.id} has not answered`);
    await advance(fleet, step, clock);
  }
  step(fleet.shell(fleet.host, 'rollout status'));
  const status = await cmd(commands.rolloutStatus, fleet.host);
  fleet.tables.rollout = status.data;
  for (const line of human(status.text).split('\n')) step(`  ${line}`);
  const end = status.data as StatusData;
  const odd = end.agents
    .filter((a) => {
      if (a.agentId === at(fleet, fleet.failing).id) return a.state !== 'failed' || a.reason !== 'rolled-back';
      if (a.agentId === offline.id) return a.state !== 'timed-out';
      return a.state !== 'installed';
    })
    .map((a) => `${a.agentId}:${a.state}`);
  const ok = end.state === 'done' && odd.length === 0;
  return ok ? { ok } : { ok, problem: `rollout ${end.state}; unexpected agent states: ${odd.join(', ')}` };
}
