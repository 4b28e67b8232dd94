import { sleep } from '../core/clock.js';
import type { HostConfig } from '../core/config/schema.js';
import { parseDuration } from '../core/duration.js';
import { EXIT } from '../core/errors.js';
import { selectAgents } from '../core/host/registry.js';
import { answeredRequests, queueRequests, type RequestType } from '../core/host/requests.js';
import { findRollout } from '../core/host/rollout-store.js';
import { VERSION_REQUEST } from '../core/protocol/version-request.js';
import { type Context, openContext } from './context.js';
import { takeInMail } from './host-inbox.js';
import { flushAll, mailExitCode, mailLine, summariseMail } from './mail-context.js';
import type { OptionsOf } from './specs/define.js';
import type { requestCounters, requestVersions } from './specs/host.js';
import type { CommandResult, GlobalOptions } from './types.js';

/** the flags request-versions and request-counters share (they declare the same ones) */
export type RequestOptions = OptionsOf<typeof requestVersions> | OptionsOf<typeof requestCounters>;

/**
 * The run of request-versions and request-counters: the same command for another request
 * type, reading the mailbox and flushing the outbox pass by pass (docs/locks.md).
 */
export function requestCommand(
  command: string,
  type: RequestType,
  what: string,
): (options: RequestOptions, globals: GlobalOptions) => Promise<CommandResult> {
  return async (options, globals) => {
    const ctx = await openContext(globals, command, { role: 'host', lock: { perPass: ['mailbox', 'outbox'] } });
    try {
      return await requestAndWait(ctx, type, what, options);
    } finally {
      ctx.close();
    }
  };
}

/**
 * request-versions and request-counters: one signed request per selected agent, sent;
 * with --wait, take in replies until every request is answered or the time is up
 * (exit 1 names the agents that did not answer).
 */
export async function requestAndWait(
  ctx: Context<HostConfig>,
  type: RequestType,
  what: string,
  options: RequestOptions,
): Promise<CommandResult> {
  const waitMs = options.wait ? parseDuration(options.wait, '--wait') : 0; // checked before anything is sent
  const agents = selectAgents(ctx.db, options.agents, options.exclude);
  const self = { id: ctx.config.id, address: ctx.config.address, key: await ctx.privateKey() };
  const rolloutId = type === VERSION_REQUEST ? (findRollout(ctx.db)?.id ?? null) : null;
  const requests = await queueRequests(ctx.db, self, agents, type, { clock: ctx.clock, ttlMs: ctx.ttlMs, rolloutId });
  const flushed = await flushAll(ctx);
  if (flushed.stopped) {
    const mail = summariseMail(ctx, flushed);
    return {
      exitCode: mailExitCode(EXIT.OK, mail),
      data: { requested: requests, answered: 0, missing: requests.map((r) => r.agentId), mail },
      text: `requests for ${what} queued for ${requests.length} agents, not sent\n${mailLine(mail)}`,
    };
  }
  let answered = new Set<string>();
  if (options.wait) {
    const deadline = Date.now() + waitMs;
    const ids = requests.map((r) => r.requestId);
    while (true) {
      await takeInMail(ctx);
      answered = answeredRequests(ctx.db, ids);
      if (answered.size === ids.length || Date.now() >= deadline) break;
      await sleep(Math.min(2000, Math.max(0, deadline - Date.now())));
    }
  }
  const missing = requests.filter((r) => !answered.has(r.requestId)).map((r) => r.agentId);
  const mail = summariseMail(ctx, flushed);
  const refused = new Set(mail.failed.filter((f) => f.ended).map((f) => f.to.toLowerCase()));
  const reached = requests.filter((r) => !refused.has(agents.find((a) => a.id === r.agentId)?.address.toLowerCase() ?? '')).length;
  const head = options.wait
    ? `requested ${what} from ${reached} of ${requests.length} agents; ${answered.size} answered${missing.length > 0 ? `; no answer from ${missing.join(', ')}` : ''}`
    : `requested ${what} from ${reached} of ${requests.length} agents`;
  const line = mailLine(mail);
  return {
    exitCode: mailExitCode(options.wait && missing.length > 0 ? EXIT.FAILED : EXIT.OK, mail),
    data: { requested: requests, answered: answered.size, missing, mail },
    text: line ? `${head}\n${line}` : head,
  };
}
