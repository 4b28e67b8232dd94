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
import { buildPayload, signPayload } from '../message/payload.js';
import {
  enqueue,
  type FlushResult,
  flushOutbox,
  type OutboxItem,
  pendingOutbox,
  requeueRolloutMail,
  rolloutMail,
} from '../outbox/outbox.js';
import { type UpdateRecipe, updateMailBuilder } from '../outbox/update-mail.js';
import { readPackageManifest } from '../package/inspect.js';
import { readPackageFile, recoverSessionKey, splitPackage, wrapSessionKey } from '../package/wrap.js';
import { encodeUpdate, UPDATE } from '../protocol/update.js';
import type { Db } from '../store/db.js';
import type { AgentRecord } from './registry.js';
import { addAgents, createRollout, markSendFailed, rolloutAgents } from './rollout-store.js';

export type { UpdateRecipe } from '../outbox/update-mail.js';

/** Size on the wire of a base64 attachment (76-char lines + CRLF), plus headers and payload. */
export function estimateMailSize(packageBytes: number): number {
  return Math.ceil(packageBytes / 57) * 78 + 16 * 1024;
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
  onProgress?: (done: number, total: number, agentId: string, error?: string) => void;
}

export interface PushAgentStatus {
  agentId: string;
  address: string;
  status: 'sent' | 'send-failed' | 'queued' | 'would-send';
  error?: string;
}

export interface PushResult {
  rolloutId: string | null;
  packageId: string;
  target: string;
  dryRun: boolean;
  agents: PushAgentStatus[];
  /** the flush stopped early (server unreachable, 4xx, login/TLS/URL wrong): the rest stays queued */
  stopped?: { code: string; message: string; exitCode: number };
}

export async function pushAll(input: PushInput): Promise<PushResult> {
  const { db } = input;
  const bytes = readPackageFile(input.file);
  const manifest = await readOwnPackage(input.file, input.self.key);
  const size = estimateMailSize(bytes.length);
  if (size > input.maxMessageSize) {
    throw new UsageError(
      'MAIL_TOO_LARGE',
      `an update mail for ${input.file} would be about ${size} bytes, over the ${input.maxMessageSize}-byte maximum message size (raise maxMessageSize only if every mail server on the way accepts it)`,
    );
  }
  if (input.agents.length === 0) throw new UsageError('NO_AGENTS', 'no agents selected');
  if (input.dryRun) {
    return {
      rolloutId: null,
      packageId: manifest.packageId,
      target: manifest.softwareVersion,
      dryRun: true,
      agents: input.agents.map((a) => ({ agentId: a.id, address: a.address, status: 'would-send' })),
    };
  }
  const split = splitPackage(bytes);
  const sessionKey = await recoverSessionKey(split.prefix, input.self.key);
  const { rolloutId, fresh, leftovers } = startRollout(input, manifest);
  // The first mails go out while the next agents' session keys are wrapped and payloads
  // signed (~10 ms of CPU per agent, 10 s for 1,000 agents before the first mail otherwise);
  // every mail is in the outbox before it is sent, and whatever the flush did not take
  // (server unreachable) is still queued below, as before.
  const queue = queueUpdates(input, fresh, leftovers, rolloutId, manifest, sessionKey);
  let flush: FlushResult | undefined;
  try {
    flush = await sendUpdates(input, queue, leftovers.length + fresh.length, split.body);
  } finally {
    for await (const _ of queue) {
      // queue the rest unsent (no sender, or the flush stopped early)
    }
  }
  return summarise(db, rolloutId, manifest.packageId, manifest.softwareVersion, input.agents, flush);
}

/**
 * The rollout and its agents recorded; which agents get a fresh mail, and the mail an
 * earlier attempt left queued. A retry (--retry-failed) must not queue a second mail next
 * to the one an interrupted push left in the outbox (SMTP down: it is still pending and
 * goes out first, with its payload id), nor re-send one that a later flush (e.g. `rds
 * inbox`) already sent: that gave an agent two update mails (found by
 * test/hostile/faults-injection.test.ts). A sent mail already marked its agent sent.
 */
function startRollout(input: PushInput, manifest: { packageId: string; softwareVersion: string }) {
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
    const mailed = rolloutMail(db, rolloutId);
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
): AsyncGenerator<OutboxItem, void, undefined> {
  yield* leftovers;
  const domain = input.self.address.split('@')[1] ?? 'rds.invalid';
  for (const agent of fresh) {
    const recipe = await prepareUpdateMail(input, agent, rolloutId, manifest, sessionKey);
    const item = {
      messageId: `<${recipe.payloadId}@${domain}>`,
      kind: UPDATE,
      ref: `${rolloutId}:${agent.id}`,
      rolloutId,
      agentId: agent.id,
      envelope: { from: input.self.address, to: [agent.address] },
      compose: recipe,
    };
    const seq = enqueue(input.db, item, input.clock.now());
    if (seq === undefined) continue; // a payload id seen before: cannot happen with random ids
    yield { ...item, seq, raw: null, compose: JSON.stringify(recipe), attempts: 0 };
  }
}

export async function prepareUpdateMail(
  input: Pick<PushInput, 'self' | 'file' | 'ttlMs' | 'clock'>,
  agent: AgentRecord,
  rolloutId: string,
  manifest: { packageId: string; softwareVersion: string },
  sessionKey: Awaited<ReturnType<typeof recoverSessionKey>>,
): Promise<UpdateRecipe> {
  const { readPublicKey } = await import('../crypto/keys.js');
  const agentKey: openpgp.PublicKey = await readPublicKey(agent.publicKey, `key of ${agent.id}`);
  const pkesk = await wrapSessionKey(sessionKey, agentKey);
  const payload = buildPayload({
    type: UPDATE,
    from: input.self.id,
    to: [agent.id],
    body: encodeUpdate({ rolloutId, packageId: manifest.packageId, softwareVersion: manifest.softwareVersion }),
    ttlMs: input.ttlMs,
    clock: input.clock,
  });
  return {
    file: input.file,
    pkesk: Buffer.from(pkesk).toString('base64'),
    from: input.self.address,
    to: agent.address,
    subject: `[rds] update to ${manifest.softwareVersion} for ${agent.id}`,
    text: `Update ${manifest.softwareVersion} (rollout ${rolloutId}) for ${agent.id}.\nThe agent verifies, installs and reports back by itself.`,
    payloadId: payload.id,
    armoredPayload: await signPayload(payload, input.self.key),
  };
}

async function sendUpdates(
  input: PushInput,
  items: AsyncIterator<OutboxItem>,
  total: number,
  body: Uint8Array,
): Promise<FlushResult | undefined> {
  if (!input.sender || total === 0) return undefined;
  const sender = await input.sender();
  // the flush records sent / ended-as-failed with the outbox item (rollout-store.ts); a
  // failure that leaves the mail queued is shown here as send-failed until a flush sends it
  let done = 0;
  try {
    return await flushOutbox(input.db, sender, {
      source: items,
      build: updateMailBuilder({ file: input.file, body }),
      concurrency: 8,
      logger: input.logger,
      clock: input.clock,
      onSent: (item, error) => {
        const agentId = item.agentId ?? '';
        if (error && item.rolloutId) markSendFailed(input.db, item.rolloutId, agentId, error, item.messageId);
        input.onProgress?.(++done, total, agentId, error);
      },
    });
  } finally {
    await sender.close();
  }
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
  return {
    rolloutId,
    packageId,
    target,
    dryRun: false,
    agents: agents.map((a) => {
      const row = byId.get(a.id);
      return { agentId: a.id, address: a.address, status: row?.status ?? 'queued', ...(row?.error ? { error: row.error } : {}) };
    }),
    ...(flush?.stopped ? { stopped: { code: flush.stopped.code, message: flush.stopped.message, exitCode: flush.stopped.exitCode } } : {}),
  };
}
