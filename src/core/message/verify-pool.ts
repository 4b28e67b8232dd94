/**
 * Signature checks (and the MIME parse before them) on worker threads, so a host's inbox
 * pass uses every core: the receive loop (inbound.ts) prepares the next mails here while
 * it acts on the current one. The workers run the same functions as the in-process path
 * (parseRdsMail, verifySignedDataByAny) on the same bytes; a refusal comes back as the same
 * SecurityError. A worker that crashes, exits or does not answer within `timeoutMs` fails
 * its jobs with a WorkerFailure: never a pass, and not a refusal either, so the mail stays
 * in the inbox and the pass reports it (ReceiveResult.failed); the next job gets a new worker.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { keyToken } from '../crypto/key-token.js';
import { type RefusalCode, SecurityError } from '../errors.js';
import type { SignatureVerifier, TrustedSender } from './accept.js';
import type { ParsedRdsMail } from './mail.js';
import type { WireCandidate, WireReply, WireRequest } from './verify-wire.js';

/** A worker that failed: the mail it was working on is left alone (not acted on, not refused). */
export class WorkerFailure extends Error {
  override name = 'WorkerFailure';
}

export interface VerifyPoolOptions {
  /**
   * Worker threads (default: one less than the cores, at least 1, at most 4). The thread
   * that reads mail and acts on it is idle about half an inbox pass (profiled on 2 cores),
   * but a second worker there still cost more than it gave: measured over 1,000 reports
   * side by side, 1.26× the fetch+verify baseline with 2 workers against 1.15× with one,
   * +0.5 s of CPU and +45 MB (its start-up and the keys it parses again).
   */
  size?: number;
  /** Longest a job may take before its worker is ended (default 60 s). */
  timeoutMs?: number;
  /** The worker's module (tests give a misbehaving one). */
  workerUrl?: URL;
}

interface Job {
  resolve(reply: WireReply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
}

/** A sender's key on the wire: its token and the key, worked out once per key object or sender. */
const wires = new WeakMap<object, Required<Pick<WireCandidate, 'token'>> & WireCandidate>();

function keyWire(sender: TrustedSender): WireCandidate {
  const memo = sender.key ?? sender;
  let found = wires.get(memo);
  if (!found) {
    if (sender.key) {
      const bytes = sender.key.write();
      found = { token: keyToken({ bytes }), bytes };
    } else {
      found = { token: keyToken({ armored: sender.armoredKey }), armored: sender.armoredKey };
    }
    wires.set(memo, found);
  }
  return found;
}

/** A number from a key's token (a SHA-256 in hex after its `a:`/`b:`), to pick a worker by. */
const spread = (token: string) => Number.parseInt(token.slice(2, 10), 16);

/** Jobs waiting on every running worker before another one starts. */
const GROW_AT = 4;

export class VerifyPool {
  private readonly slots: (Slot | undefined)[];
  private readonly timeoutMs: number;
  private readonly workerUrl: URL;
  private nextId = 1;
  private closed = false;

  constructor(options: VerifyPoolOptions = {}) {
    const size = Math.max(1, options.size ?? Math.min(4, os.availableParallelism() - 1));
    this.slots = Array.from({ length: size }, () => undefined);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.workerUrl = options.workerUrl ?? new URL('./verify-worker.js', import.meta.url);
  }

  /** parseRdsMail, on a worker. */
  async parseMail(raw: Buffer): Promise<ParsedRdsMail> {
    const slot = this.leastBusy();
    // one copy of the mail, moved to the worker (transferred), not copied again by postMessage
    const copy = new Uint8Array(raw);
    const reply = await this.run(slot, { id: this.nextId++, kind: 'parse', raw: copy }, [copy.buffer]);
    if (!('mail' in reply)) throw new WorkerFailure('verify worker: a parse job got a verify reply');
    const { attachments, ...mail } = reply.mail;
    return { ...mail, attachments: new Map(attachments.map(([name, c]) => [name, Buffer.from(c.buffer, c.byteOffset, c.byteLength)])) }; // moved here, not shared
  }

  /**
   * verifySignedDataByAny over the senders' keys, on a worker. Each job carries its keys
   * (a worker's parsed keys are a bounded cache); one key goes to one worker, which so
   * parses it once while it stays in that cache.
   */
  readonly verify: SignatureVerifier = async (armored: string, senders: TrustedSender[], pickedBy?: readonly string[]) => {
    const candidates = senders.map(keyWire);
    // the first candidate's worker (an address's full list starts with the same one), when it runs
    const home = candidates[0] ? this.slots[spread(candidates[0].token) % this.slots.length] : undefined;
    const slot = home ?? this.leastBusy();
    const request: WireRequest = {
      id: this.nextId++,
      kind: 'verify',
      armored,
      candidates,
      ...(pickedBy ? { pickedBy: [...pickedBy] } : {}),
    };
    const reply = await this.run(slot, request);
    if (!('data' in reply)) throw new WorkerFailure('verify worker: a verify job got a parse reply');
    return { data: reply.data, index: reply.index };
  };

  /** Starts the first worker now (its start-up overlaps the caller's, e.g. the IMAP login), not at the first job. */
  warm(): void {
    if (!this.closed) this.slot(0);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((slot, i) => (slot ? this.end(i, new WorkerFailure('verify pool closed')) : undefined)));
  }

  private run(slot: Slot, request: WireRequest, transfer: ArrayBuffer[] = []): Promise<WireReply> {
    return new Promise<WireReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.slots.indexOf(slot);
        if (i >= 0) void this.end(i, new WorkerFailure(`verify worker did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      slot.jobs.set(request.id, { resolve, reject, timer });
      slot.worker.postMessage(request, transfer);
    }).then((reply) => {
      if (reply.ok) return reply;
      if (reply.code) throw new SecurityError(reply.code as RefusalCode, reply.message);
      throw new WorkerFailure(`verify worker: ${reply.message}`);
    });
  }

  /**
   * The running worker with the fewest jobs; a new worker only when every running one has
   * GROW_AT jobs waiting (a pass of a few mails starts one worker, a big one all of them).
   */
  private leastBusy(): Slot {
    let best: number | undefined;
    for (const [i, slot] of this.slots.entries()) {
      if (slot && (best === undefined || slot.jobs.size < (this.slots[best]?.jobs.size ?? 0))) best = i;
    }
    if (best === undefined) return this.slot(0);
    const idle = this.slots.indexOf(undefined);
    return this.slot((this.slots[best]?.jobs.size ?? 0) >= GROW_AT && idle >= 0 ? idle : best);
  }

  /** Slot i's worker, started when it is not running. */
  private slot(i: number): Slot {
    if (this.closed) throw new WorkerFailure('verify pool closed');
    const found = this.slots[i];
    if (found) return found;
    const worker = new Worker(this.workerUrl);
    worker.unref();
    const slot: Slot = { worker, jobs: new Map() };
    worker.on('message', (reply: WireReply) => {
      const job = slot.jobs.get(reply.id);
      if (!job) return;
      slot.jobs.delete(reply.id);
      clearTimeout(job.timer);
      job.resolve(reply);
    });
    worker.on('error', (error) => void this.end(this.slots.indexOf(slot), new WorkerFailure(`verify worker crashed: ${error.message}`)));
    worker.on('exit', (code) => void this.end(this.slots.indexOf(slot), new WorkerFailure(`verify worker exited (code ${code})`)));
    this.slots[i] = slot;
    return slot;
  }

  /** Ends slot i's worker: its jobs fail with `failure`; the next job there starts a new worker. */
  private async end(i: number, failure: WorkerFailure): Promise<void> {
    const slot = this.slots[i];
    if (i < 0 || !slot) return;
    this.slots[i] = undefined;
    for (const job of slot.jobs.values()) {
      clearTimeout(job.timer);
      job.reject(failure);
    }
    slot.jobs.clear();
    await slot.worker.terminate();
  }
}
