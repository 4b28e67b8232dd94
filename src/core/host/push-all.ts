/**
 * push-all (docs/commands.md#host-commands, docs/protocol.md#message-types): one package,
 * encrypted once, mailed to every selected agent in one batch. Per agent only the session key is wrapped (~100 bytes) and
 * a small payload signed; the shared encrypted body is never re-encrypted. Update mails
 * are queued as recipes (core/outbox/update-mail.ts) and built as they are sent.
 */
import { randomUUID } from 'node:crypto';
import type * as openpgp from 'openpgp';
import type { Clock } from '../clock.js';
import { REFUSAL, SecurityError, UsageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MailSender } from '../mail/types.js';
import type { Sender } from '../message/outgoing.js';
import { buildPayload } from '../message/payload.js';
import {
  type EnqueueInput,
  enqueue,
  type FlushResult,
  flushOutbox,
  type OutboxItem,
  pendingOutbox,
  queuedItem,
  requeueRolloutMail,
  rolloutMail,
} from '../outbox/outbox.js';
import { type UpdateRecipe, updateMailBuilder } from '../outbox/update-mail.js';
import { readPackageManifest } from '../package/inspect.js';
import { readPackageFile, recoverSessionKey, splitPackage } from '../package/wrap.js';
import { encodeUpdate, UPDATE } from '../protocol/update.js';
import type { Db } from '../store/db.js';
import { openSealer, type Sealer, sealForAgent } from './push-crypto.js';
import {
  agentMailBytes,
  loadPartsPlan,
  type PartsPlan,
  packageLayout,
  partItem,
  planParts,
  preparePart,
  recordPartsPlan,
} from './push-parts.js';
import type { AgentRecord } from './registry.js';
import { type PlannedAgent, planWaves, type Share, waveCount } from './rollout-plan.js';
import { addAgents, createRollout, markSendFailed, rolloutAgents } from './rollout-store.js';
import { DEFAULT_SETTINGS, type RolloutSettings, recordPlan } from './rollout-waves-store.js';

export type { UpdateRecipe } from '../outbox/update-mail.js';

/** How many agents' mails the sealer prepares ahead of the flush (push-crypto.ts). */
const SEAL_AHEAD = 32;
/** Size on the wire of a base64 attachment (76-char lines + CRLF), plus headers and payload. */
export function estimateMailSize(packageBytes: number): number {
  return Math.ceil(packageBytes / 57) * 78 + 16 * 1024;
}

/**
 * Part mails in flight at once: each costs about 3.5× its size while nodemailer writes it
 * (the raw mail, its dot-stuffed stream, the socket's buffers; measured by bench/parts.mjs),
 * so at most 16 MiB of part mails are in flight (2 at Postfix's 10,240,000 bytes: 100 MB to
 * 10 agents peaked at ~280 MB of RSS with 3, ~247 MB with 2, for ~10% more time), at least
 * 2 and at most push-all's usual 8: the host's peak RSS stays flat in package size.
 */
export function partsInFlight(mailLimit: number): number {
  return Math.max(2, Math.min(8, Math.floor((16 * 2 ** 20) / mailLimit)));
}

/** A rollout id: R + the UTC time to the second + 8 random hex digits. */
export function newRolloutId(now: Date): string {
  return `R${now.toISOString().replace(/\D/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
}

export interface PushInput {
  db: Db;
  self: Sender;
  file: string;
  agents: AgentRecord[];
  dryRun: boolean;
  clock: Clock;
  ttlMs: number;
  maxMessageSize: number;
  logger: Logger;
  sender?: () => Promise<MailSender>;
  retryRollout?: string;
  /** the waves and budgets (docs/rollouts.md); default: one wave of every agent, the default budgets */
  plan?: { shares: Share[]; canary: string[]; settings: RolloutSettings; rate?: { count: number } };
  onProgress?: (done: number, total: number, agentId: string, error?: string) => void;
}

export interface PushAgentStatus {
  agentId: string;
  address: string;
  /** pending: in a later wave (or over --rate), sent by `rds rollout advance` */
  status: 'sent' | 'send-failed' | 'queued' | 'would-send' | 'pending';
  wave: number;
  error?: string;
}

export interface PushResult {
  rolloutId: string | null;
  packageId: string;
  target: string;
  dryRun: boolean;
  agents: PushAgentStatus[];
  /** how many waves the plan has */
  waves: number;
  /** --dry-run: each wave's agents, its update mails and their bytes */
  plan?: { wave: number; agents: string[]; mails: number; bytes: number }[];
  /** the package goes out in parts: how many per agent, their size, and at most how many bytes per agent */
  parts?: { perAgent: number; partSize: number; mailLimit: number; agentBytes: number };
  /** the flush stopped early (server unreachable, 4xx, login/TLS/URL wrong): the rest stays queued */
  stopped?: { code: string; message: string; exitCode: number };
}

export async function pushAll(input: PushInput): Promise<PushResult> {
  const { db } = input;
  const layout = await readLayout(input);
  const manifest = await readOwnPackage(input.file, input.self.key);
  if (input.agents.length === 0) throw new UsageError('NO_AGENTS', 'no agents selected');
  const plan = input.retryRollout
    ? []
    : planWaves(
        input.agents.map((a) => a.id),
        input.plan?.shares ?? [{ percent: 100 }],
        input.plan?.canary,
      );
  const sender = input.dryRun || !input.sender ? undefined : await input.sender();
  try {
    // too large for one mail (the config's limit, or the server's SIZE when smaller): parts
    const parts = await partsFor(input, manifest, layout, sender);
    if (input.dryRun) return dryRun(input.agents, plan, manifest, parts ? agentMailBytes(parts) : estimateMailSize(layout.fileSize), parts);
    const sessionKey = await recoverSessionKey(layout.prefix, input.self.key);
    const { rolloutId, fresh, leftovers } = startRollout(input, manifest, plan, parts);
    // The first mails go out while the next agents' session keys are wrapped and payloads
    // signed (~10 ms of CPU per agent, 10 s for 1,000 agents before the first mail otherwise);
    // every mail is in the outbox before it is sent, and whatever the flush did not take
    // (server unreachable) is still queued below, as before.
    // one-mail updates: the OpenPGP work on worker threads for many agents (push-crypto.ts)
    const sealer = parts ? undefined : await openSealer(fresh.length, sessionKey, input.self.key);
    let flush: FlushResult | undefined;
    try {
      const queue = parts
        ? queueParts(input, fresh, leftovers, rolloutId, manifest, sessionKey, parts)
        : queueUpdates(input, fresh, leftovers, rolloutId, manifest, sessionKey, sealer as Sealer, SEAL_AHEAD);
      try {
        const total = leftovers.length + fresh.length * (parts?.parts ?? 1);
        const body = parts ? undefined : splitPackage(readPackageFile(input.file)).body;
        flush = await sendUpdates(input, sender, queue, total, body, parts ? partsInFlight(parts.mailLimit) : 8);
      } finally {
        for await (const _ of queue) {
          // queue the rest unsent (no sender, or the flush stopped early)
        }
      }
    } finally {
      await sealer?.close();
    }
    return summarise(db, rolloutId, manifest.packageId, manifest.softwareVersion, input.agents, flush);
  } finally {
    await sender?.close();
  }
}

/** Where the package's body starts; a file that is no package says why as readOwnPackage does. */
async function readLayout(input: PushInput): Promise<ReturnType<typeof packageLayout>> {
  try {
    return packageLayout(input.file);
  } catch (error) {
    if ((error as { code?: string }).code === 'NOT_A_PACKAGE') await readOwnPackage(input.file, input.self.key);
    throw error;
  }
}

/**
 * The cut of a package too large for one mail, or undefined when one mail per agent fits:
 * the limit is the config's `maxMessageSize`, or the SIZE the SMTP server announces when
 * smaller. A retry keeps the cut its rollout was pushed with (part 1 signed its hashes).
 */
async function partsFor(
  input: PushInput,
  manifest: { packageId: string; softwareVersion: string },
  layout: { fileSize: number; bodyOffset: number },
  sender: MailSender | undefined,
): Promise<PartsPlan | undefined> {
  const stored = input.retryRollout ? loadPartsPlan(input.db, input.retryRollout) : undefined;
  if (stored) return stored;
  const advertised = await sender?.sizeLimit?.();
  const limit = Math.min(input.maxMessageSize, advertised ?? Number.POSITIVE_INFINITY);
  if (estimateMailSize(layout.fileSize) <= limit) return undefined;
  if (advertised !== undefined && advertised < input.maxMessageSize) {
    input.logger.info('mail server announces a smaller SIZE than maxMessageSize: parts are cut for it', { size: advertised });
  }
  return planParts(input, input.agents, manifest, layout, limit);
}

function partsSummary(plan: PartsPlan, agentBytes: number): NonNullable<PushResult['parts']> {
  return { perAgent: plan.parts, partSize: plan.partSize, mailLimit: plan.mailLimit, agentBytes };
}

function dryRun(
  agents: AgentRecord[],
  plan: PlannedAgent[],
  manifest: { packageId: string; softwareVersion: string },
  mailBytes: number,
  parts?: PartsPlan,
): PushResult {
  const waves = waveCount(plan);
  const wave = new Map(plan.map((p) => [p.agentId, p.wave]));
  const ordered = [...agents].sort((a, b) => (wave.get(a.id) ?? 1) - (wave.get(b.id) ?? 1));
  return {
    rolloutId: null,
    packageId: manifest.packageId,
    target: manifest.softwareVersion,
    dryRun: true,
    waves,
    agents: ordered.map((a) => ({ agentId: a.id, address: a.address, status: 'would-send', wave: wave.get(a.id) ?? 1 })),
    plan: Array.from({ length: waves }, (_, i) => {
      const ids = plan.filter((p) => p.wave === i + 1).map((p) => p.agentId);
      return { wave: i + 1, agents: ids, mails: ids.length * (parts?.parts ?? 1), bytes: ids.length * mailBytes };
    }),
    ...(parts ? { parts: partsSummary(parts, mailBytes) } : {}),
  };
}

/**
 * The rollout and its agents recorded; which agents get a fresh mail, and the mail an
 * earlier attempt left queued. A retry (--retry-failed) must not queue a second mail next
 * to the one an interrupted push left in the outbox (SMTP down: it is still pending and
 * goes out first, with its payload id), nor re-send one that a later flush (e.g. `rds
 * inbox`) already sent: that gave an agent two update mails (found by
 * test/hostile/faults-injection.test.ts). A sent mail already marked its agent sent.
 */
function startRollout(
  input: PushInput,
  manifest: { packageId: string; softwareVersion: string },
  plan: PlannedAgent[],
  parts: PartsPlan | undefined,
) {
  const { db, clock } = input;
  const rolloutId = input.retryRollout ?? newRolloutId(clock.now());
  const fresh: AgentRecord[] = [];
  db.transaction(() => {
    createRollout(db, {
      id: rolloutId,
      packageId: manifest.packageId,
      targetVersion: manifest.softwareVersion,
      file: input.file,
      createdAt: clock.now().toISOString(),
    });
    if (parts) recordPartsPlan(db, rolloutId, parts);
    const mailed = rolloutMail(db, rolloutId);
    if (!input.retryRollout) {
      // the whole plan, every agent pending in its wave; wave 1 goes now (at most --rate of it)
      recordPlan(db, rolloutId, { ...DEFAULT_SETTINGS, ...input.plan?.settings, waves: waveCount(plan) }, plan);
      const byId = new Map(input.agents.map((a) => [a.id, a]));
      const now = plan.filter((p) => p.wave === 1).map((p) => byId.get(p.agentId) as AgentRecord);
      fresh.push(...now.slice(0, input.plan?.rate?.count ?? now.length));
      return;
    }
    addAgents(
      db,
      rolloutId,
      input.agents.filter((a) => mailed.get(a.id)?.sent !== true).map((a) => a.id),
    );
    for (const agent of input.agents) if (!mailed.has(agent.id)) fresh.push(agent);
    // --retry-failed: a mail that ended (refused for good, dropped) is queued again, once
    if (input.retryRollout) for (const agent of input.agents) requeueRolloutMail(db, rolloutId, agent.id);
  })();
  return { rolloutId, fresh, leftovers: pendingOutbox(db, { rolloutId }) };
}

/**
 * The package as this host made it. On the host a file that is no package, or one packed
 * for another (a rotated-away) key, is the operator's mistake: one usage line (exit 2),
 * not a security refusal with OpenPGP internals; agents still refuse such mail (exit 4).
 */
export async function readOwnPackage(file: string, key: openpgp.PrivateKey) {
  try {
    return await readPackageManifest(file, key);
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    const fingerprint = key.getFingerprint().toUpperCase();
    if (error.code === REFUSAL.PACKAGE_NOT_FOR_ME) {
      throw new UsageError(
        'PACKAGE_OTHER_KEY',
        `${file} was not packed with this host's key ${fingerprint} (made before rds keys rotate?): pack it again with rds pack-update`,
        { cause: error },
      );
    }
    throw new UsageError('NOT_A_PACKAGE', `${file} is not an update package made by rds pack-update on this host (${error.message})`, {
      cause: error,
    });
  }
}

/** Leftovers of an earlier attempt first, then each fresh agent's mail, queued just before it is handed out. */
async function* queueUpdates(
  input: PushInput,
  fresh: AgentRecord[],
  leftovers: OutboxItem[],
  rolloutId: string,
  manifest: { packageId: string; softwareVersion: string },
  sessionKey: Awaited<ReturnType<typeof recoverSessionKey>>,
  sealer: Sealer,
  ahead: number,
): AsyncGenerator<OutboxItem, void, undefined> {
  yield* leftovers;
  const inFlight: Promise<UpdateRecipe>[] = [];
  let next = 0;
  const refill = () => {
    while (next < fresh.length && inFlight.length < ahead) {
      const recipe = prepareUpdateMail(input, fresh[next++] as AgentRecord, rolloutId, manifest, sessionKey, sealer);
      recipe.catch(() => {}); // awaited below in order; a rejection is not unhandled meanwhile
      inFlight.push(recipe);
    }
  };
  for (const agent of fresh) {
    refill();
    const recipe = await (inFlight.shift() as Promise<UpdateRecipe>);
    const item = updateItem(input.self.address, recipe, rolloutId, agent);
    const seq = enqueue(input.db, item, input.clock.now());
    if (seq === undefined) continue; // a payload id seen before: cannot happen with random ids
    yield { ...item, seq, raw: null, compose: JSON.stringify(recipe), attempts: 0 };
  }
}

/**
 * A package in parts: leftovers first (part-major), then per fresh agent all its part mails
 * queued at once (an interrupted push never leaves an agent with part 1 and no part 2),
 * handed out part-major: every agent's part 1 while the next agents are signed, then every
 * agent's part 2, and so on, so each part's base64 is built once (outbox/part-mail.ts).
 */
async function* queueParts(
  input: PushInput,
  fresh: AgentRecord[],
  leftovers: OutboxItem[],
  rolloutId: string,
  manifest: { packageId: string; softwareVersion: string },
  sessionKey: Awaited<ReturnType<typeof recoverSessionKey>>,
  plan: PartsPlan,
): AsyncGenerator<OutboxItem, void, undefined> {
  const partOf = (item: OutboxItem) => Number(/:(\d+)\/\d+$/.exec(item.ref ?? '')?.[1] ?? 0);
  yield* [...leftovers].sort((a, b) => partOf(a) - partOf(b) || a.seq - b.seq);
  // the later parts' mails by seq only: their recipes (~2 KB each, 100 agents × 28 parts) are read back as they go
  const later: number[][] = Array.from({ length: plan.parts }, () => []);
  for (const agent of fresh) {
    const queued = await queueAgentParts(input, agent, rolloutId, manifest, sessionKey, plan);
    queued.forEach((item, i) => {
      if (i > 0) later[i]?.push(item.seq);
    });
    if (queued[0]) yield queued[0];
  }
  for (const layer of later) {
    for (const seq of layer) {
      const item = queuedItem(input.db, seq);
      if (item) yield item;
    }
  }
}

/** One agent's N part mails, signed, then queued in one transaction (all or none). */
async function queueAgentParts(
  input: PushInput,
  agent: AgentRecord,
  rolloutId: string,
  manifest: { packageId: string; softwareVersion: string },
  sessionKey: Awaited<ReturnType<typeof recoverSessionKey>>,
  plan: PartsPlan,
): Promise<OutboxItem[]> {
  const items: EnqueueInput[] = [];
  for (let n = 1; n <= plan.parts; n++) {
    items.push(
      partItem(input.self.address, await preparePart(input, agent, rolloutId, manifest, plan, n, sessionKey), rolloutId, agent, true),
    );
  }
  const now = input.clock.now();
  const seqs = input.db.transaction(() => items.map((item) => enqueue(input.db, item, now)))();
  return items.flatMap((item, i) => {
    const seq = seqs[i];
    if (seq === undefined) return []; // a payload id seen before: cannot happen with random ids
    return [{ ...item, seq, ref: item.ref ?? null, raw: null, compose: JSON.stringify(item.compose), attempts: 0 }];
  });
}

/** The outbox item of one agent's update mail (its recipe, built when sent). */
export function updateItem(selfAddress: string, recipe: UpdateRecipe, rolloutId: string, agent: { id: string; address: string }) {
  const domain = selfAddress.split('@')[1] ?? 'rds.invalid';
  return {
    messageId: `<${recipe.payloadId}@${domain}>`,
    kind: UPDATE,
    ref: `${rolloutId}:${agent.id}`,
    rolloutId,
    agentId: agent.id,
    envelope: { from: selfAddress, to: [agent.address] },
    compose: recipe,
  };
}

/** One agent's update mail as a recipe: its wrapped session key and a fresh signed payload. */
export async function prepareUpdateMail(
  input: Pick<PushInput, 'self' | 'ttlMs' | 'clock' | 'file'>,
  agent: AgentRecord,
  rolloutId: string,
  manifest: { packageId: string; softwareVersion: string },
  sessionKey: Awaited<ReturnType<typeof recoverSessionKey>>,
  sealer?: Sealer,
): Promise<UpdateRecipe> {
  const payload = buildPayload({
    type: UPDATE,
    from: input.self.id,
    to: [agent.id],
    body: encodeUpdate({ rolloutId, packageId: manifest.packageId, softwareVersion: manifest.softwareVersion }),
    ttlMs: input.ttlMs,
    clock: input.clock,
  });
  const job = { agentId: agent.id, publicKey: agent.publicKey, payload };
  const sealed = await (sealer ? sealer.seal(job) : sealForAgent(job, sessionKey, input.self.key));
  return {
    file: input.file,
    pkesk: sealed.pkesk,
    from: input.self.address,
    to: agent.address,
    subject: `[rds] update to ${manifest.softwareVersion} for ${agent.id}`,
    text: `Update ${manifest.softwareVersion} (rollout ${rolloutId}) for ${agent.id}.\nThe agent verifies, installs and reports back by itself.`,
    payloadId: payload.id,
    armoredPayload: sealed.armoredPayload,
  };
}

async function sendUpdates(
  input: PushInput,
  sender: MailSender | undefined,
  items: AsyncIterator<OutboxItem>,
  total: number,
  body: Uint8Array | undefined,
  concurrency: number,
): Promise<FlushResult | undefined> {
  if (!sender || total === 0) return undefined;
  // the flush records sent / ended-as-failed with the outbox item (rollout-store.ts); a
  // failure that leaves the mail queued is shown here as send-failed until a flush sends it
  let done = 0;
  return await flushOutbox(input.db, sender, {
    source: items,
    build: updateMailBuilder(body ? { file: input.file, body } : undefined),
    concurrency,
    logger: input.logger,
    clock: input.clock,
    onSent: (item, error) => {
      const agentId = item.agentId ?? '';
      if (error && item.rolloutId) markSendFailed(input.db, item.rolloutId, agentId, error, item.messageId);
      input.onProgress?.(++done, total, agentId, error);
    },
  });
}

function summarise(
  db: Db,
  rolloutId: string,
  packageId: string,
  target: string,
  agents: AgentRecord[],
  flush: FlushResult | undefined,
): PushResult {
  const byId = new Map(rolloutAgents(db, rolloutId).map((r) => [r.agentId, r]));
  const waveOf = (id: string) => byId.get(id)?.wave ?? 1;
  const ordered = [...agents].sort((a, b) => waveOf(a.id) - waveOf(b.id));
  return {
    rolloutId,
    packageId,
    target,
    dryRun: false,
    waves: Math.max(1, ...agents.map((a) => waveOf(a.id))),
    agents: ordered.map((a) => {
      const row = byId.get(a.id);
      const status = row?.state === 'pending' && row.attempts === 0 ? 'pending' : (row?.status ?? 'queued');
      return { agentId: a.id, address: a.address, status, wave: waveOf(a.id), ...(row?.error ? { error: row.error } : {}) };
    }),
    ...(flush?.stopped ? { stopped: { code: flush.stopped.code, message: flush.stopped.message, exitCode: flush.stopped.exitCode } } : {}),
  };
}
