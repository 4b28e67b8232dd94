/**
 * The mail layer's contract. Everything above it (outbox, poll-mail, inbox, push-all)
 * sees only these interfaces; adapters are chosen by URL (smtp://, smtps://, imap://,
 * imaps://, maildir:///abs/path). Mail travels as raw RFC 5322 bytes so that the outbox
 * can store exactly what is sent and re-send it unchanged.
 */
export interface Envelope {
  from: string;
  to: string[];
}

/**
 * One raw RFC 5322 message as consecutive pieces, its bytes the pieces in order: a large
 * body shared by many mails (a part of a package) is one of them, never copied per mail.
 */
export interface MailPieces {
  pieces: readonly Buffer[];
  length: number;
}

export interface MailSender {
  /** Send one raw RFC 5322 message. Throws TransientError when the server cannot be reached. */
  sendRaw(envelope: Envelope, raw: Buffer): Promise<void>;
  /** The same for a mail in pieces, streamed as they are (SMTP); senders without it get the pieces joined. */
  sendPieces?(envelope: Envelope, mail: MailPieces): Promise<void>;
  /**
   * The largest mail the server takes, when it says (SMTP: the SIZE of its EHLO reply, RFC
   * 1870); undefined when it does not or cannot be asked. Maildir has none: its limit is the config's.
   */
  sizeLimit?(): Promise<number | undefined>;
  close(): Promise<void>;
}

export interface InboxMessage {
  /** Adapter-specific stable handle (IMAP UID, Maildir file name). */
  uid: string;
  raw: Buffer;
  size: number;
}

export type Settlement = { kind: 'processed' } | { kind: 'quarantined'; reason: string };

export interface MailInbox {
  /**
   * Yield waiting messages one at a time (oldest first), at most `max`. Messages larger
   * than `maxSize` are yielded with `raw` empty and `size` set, so the caller can
   * quarantine them without downloading them.
   */
  messages(options: { max?: number; maxSize?: number }): AsyncIterable<InboxMessage>;
  /**
   * Move a message out of the inbox: to the processed folder, or to the quarantine folder
   * (the reason is recorded by the caller in the state store; adapters that can also tag
   * the message with it do). Never deletes.
   */
  settle(message: InboxMessage, settlement: Settlement): Promise<void>;
  close(): Promise<void>;
}

export interface TlsOptions {
  /** PEM of a private CA to trust in addition to the system store. */
  ca?: string | Buffer;
}
