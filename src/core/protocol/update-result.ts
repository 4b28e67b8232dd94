/**
 * update-result (agent → host): how an update ended (installed, already-installed,
 * rolled-back, refused) or that it waits (deferred: verified and staged, held for the agent's
 * install window until `deferredUntil`; a failed health check is `rolled-back` with reasonCode
 * HEALTH_CHECK_FAILED), with the version report the agent runs afterwards and, when the
 * install script ran, the tail of its log (docs/protocol.md). The host cuts a log tail over
 * its limits (and records that it had to) instead of refusing the result. Extra fields are
 * ignored.
 */
import { boundLogTail } from '../install/log-tail.js';
import { type BodyCodec, Decoder } from './decoder.js';
import { decodeReportFields } from './version-report.js';

export const UPDATE_RESULT = 'update-result';

export const UPDATE_OUTCOMES = ['installed', 'already-installed', 'rolled-back', 'refused', 'deferred'] as const;
export type UpdateOutcome = (typeof UPDATE_OUTCOMES)[number];

export interface UpdateResultBody {
  rolloutId: string;
  packageId: string | null;
  outcome: UpdateOutcome;
  softwareVersion: string;
  versionText: string;
  reason?: string;
  reasonCode?: string;
  logTail?: string;
  /** outcome 'deferred': when the agent's install window opens (ISO-8601 UTC). */
  deferredUntil?: string;
}

export function encodeUpdateResult(body: UpdateResultBody): Record<string, unknown> {
  return {
    rolloutId: body.rolloutId,
    packageId: body.packageId,
    outcome: body.outcome,
    softwareVersion: body.softwareVersion,
    versionText: body.versionText,
    ...(body.reason === undefined ? {} : { reason: body.reason }),
    ...(body.reasonCode === undefined ? {} : { reasonCode: body.reasonCode }),
    ...(body.logTail === undefined ? {} : { logTail: body.logTail }),
    ...(body.deferredUntil === undefined ? {} : { deferredUntil: body.deferredUntil }),
  };
}

const isOutcome = (v: unknown): v is UpdateOutcome => typeof v === 'string' && (UPDATE_OUTCOMES as readonly string[]).includes(v);

/** The decoded result, and whether its log tail had to be cut to the limits. */
export function readUpdateResult(value: unknown): { body: UpdateResultBody; logTailCut: boolean } {
  const d: Decoder = new Decoder('update result');
  const b = d.object(value, 'body');
  const lacks = 'update result lacks rolloutId/outcome';
  if (typeof b.rolloutId !== 'string') d.refuse('rolloutId', lacks);
  if (!isOutcome(b.outcome)) d.refuse('outcome', lacks);
  if (b.outcome === 'deferred' && (typeof b.deferredUntil !== 'string' || Number.isNaN(Date.parse(b.deferredUntil))))
    d.refuse('deferredUntil', 'a deferred update result lacks a valid deferredUntil time');
  const report = decodeReportFields(b);
  let log: ReturnType<typeof boundLogTail> | undefined;
  if (b.logTail !== undefined && b.logTail !== null) {
    if (typeof b.logTail !== 'string') d.refuse('logTail', "update result's logTail is not text");
    log = boundLogTail(b.logTail);
  }
  const body: UpdateResultBody = {
    rolloutId: b.rolloutId,
    packageId: typeof b.packageId === 'string' ? b.packageId : null,
    outcome: b.outcome,
    ...report,
    ...(typeof b.reason === 'string' ? { reason: b.reason } : {}),
    ...(typeof b.reasonCode === 'string' ? { reasonCode: b.reasonCode } : {}),
    ...(log ? { logTail: log.text } : {}),
    ...(b.outcome === 'deferred' ? { deferredUntil: new Date(b.deferredUntil as string).toISOString() } : {}),
  };
  return { body, logTailCut: log?.truncated ?? false };
}

export function decodeUpdateResult(value: unknown): UpdateResultBody {
  return readUpdateResult(value).body;
}

export const updateResult: BodyCodec<UpdateResultBody> = { encode: encodeUpdateResult, decode: decodeUpdateResult };
