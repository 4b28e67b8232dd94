/**
 * Look into an inbox before loading what taking mail in needs (the acceptance rules, the
 * handlers, openpgp, the install path): an empty pass, the common case of a cron-started
 * `poll-mail`, then costs next to nothing. The inbox is read once, in order: the message
 * peeked at is handed out again first, then the rest from the same read.
 */
import type { InboxMessage, MailInbox } from './types.js';

export interface InboxLimits {
  max: number;
  maxSize: number;
}

/**
 * Undefined when nothing waits; else an inbox whose `messages()` yields every waiting
 * message (the first included) once, within `limits` (the limits given to `messages()`
 * later are those of this read: pass the same).
 */
export async function peekInbox(inbox: MailInbox, limits: InboxLimits): Promise<MailInbox | undefined> {
  const iterator = inbox.messages(limits)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) {
    await iterator.return?.();
    return undefined;
  }
  let handedOut = false;
  return {
    messages: () => {
      if (handedOut) throw new Error('peekInbox: the messages of a peeked inbox are read once');
      handedOut = true;
      return replay(first.value, iterator);
    },
    settle: (message, settlement) => inbox.settle(message, settlement),
    close: () => inbox.close(),
  };
}

async function* replay(first: InboxMessage, rest: AsyncIterator<InboxMessage>): AsyncGenerator<InboxMessage> {
  yield first;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
