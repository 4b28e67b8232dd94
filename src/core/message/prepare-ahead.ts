/**
 * The receive loop's look-ahead (inbound.ts): while one mail is acted on, the next few are
 * already parsed and checked (on the verify pool's workers when there is one). Results come
 * out in the inbox's order; an error of the inbox itself comes out where it happened.
 */

import { REFUSAL, SecurityError } from '../errors.js';
import type { InboxMessage } from '../mail/types.js';
import { type AcceptedMessage, type AcceptPolicy, checkMessage, type SignatureVerifier } from './accept.js';
import { type ParsedRdsMail, parseRdsMail } from './mail.js';

/** Parses and checks mail off the main thread (verify-pool.ts's VerifyPool). */
export interface MailChecker {
  parseMail(raw: Buffer): Promise<ParsedRdsMail>;
  verify: SignatureVerifier;
}

/** One mail, parsed and checked by every rule but replay; or what refused it (`error`). */
export interface Prepared {
  message: InboxMessage;
  mail?: ParsedRdsMail;
  accepted?: AcceptedMessage;
  error?: unknown;
}

export async function prepareMail(
  message: InboxMessage,
  options: { policy: AcceptPolicy; maxMessageSize: number; checker?: MailChecker },
): Promise<Prepared> {
  let mail: ParsedRdsMail | undefined;
  try {
    if (message.raw.length === 0 && message.size > options.maxMessageSize) {
      throw new SecurityError(REFUSAL.OVERSIZE, `mail of ${message.size} bytes exceeds the ${options.maxMessageSize}-byte limit`);
    }
    const { checker } = options;
    mail = checker ? await checker.parseMail(message.raw) : await parseRdsMail(message.raw);
    const accepted = await checkMessage(mail.from, mail.armoredPayload, options.policy, checker?.verify);
    return { message, mail, accepted };
  } catch (error) {
    return { message, ...(mail ? { mail } : {}), error };
  }
}

/** `work` on up to `depth` items of `source` at once, results in source order. */
export async function* ahead<T, R>(source: AsyncIterable<T>, depth: number, work: (item: T) => Promise<R>): AsyncGenerator<R> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<R>>[] = [];
  let ended = false;
  const pull = () => {
    const next = it
      .next()
      .then((r): IteratorResult<R> | Promise<IteratorResult<R>> =>
        r.done ? { done: true, value: undefined } : work(r.value).then((value) => ({ done: false, value })),
      );
    next.catch(() => {}); // awaited in turn below; not an unhandled rejection meanwhile
    queue.push(next);
  };
  try {
    for (let i = 0; i < Math.max(1, depth); i++) pull();
    while (queue.length > 0) {
      const r = await (queue.shift() as Promise<IteratorResult<R>>);
      if (r.done) {
        ended = true;
        return;
      }
      // depth 1: nothing is read ahead, the next mail is fetched only once this one is done
      // (a POP3 session takes one command at a time: RETR of the next mail must not run
      // while this one is still being settled)
      if (depth > 1) pull();
      yield r.value;
      if (depth <= 1) pull();
    }
  } finally {
    if (!ended) await it.return?.()?.catch(() => {});
  }
}
