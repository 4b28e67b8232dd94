/**
 * The agent's cron passes as table entries: cron or a systemd timer starts them every
 * minute or few, so src/launch.ts parses their command lines without commander or the rest
 * of the table (issue 13, docs/deployment.md). specs/index.ts lists these same entries in
 * help order: one spec and one loader per command, whichever parser read the line.
 */
import * as agent from './agent.js';
import { command } from './define.js';

export const WATCH_FAULTS = command(agent.watchFaults, async () => (await import('../watch-faults.js')).run);
export const COLLECT_COUNTERS = command(agent.collectCounters, async () => (await import('../collect-counters.js')).run);
export const HEARTBEAT = command(agent.heartbeat, async () => (await import('../heartbeat.js')).run);
export const POLL_MAIL = command(agent.pollMail, async () => (await import('../poll-mail.js')).run);

export const AGENT_PASSES = [WATCH_FAULTS, COLLECT_COUNTERS, HEARTBEAT, POLL_MAIL] as const;
