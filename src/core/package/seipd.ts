/**
 * The encrypted body of an update package decrypted with Node's crypto instead of through
 * openpgp.js's streams (issue 13: most of a 50 MB apply-update was openpgp.js stream
 * plumbing). Only the layer that carries the bulk: a version 1 Symmetrically Encrypted
 * Integrity Protected Data packet (RFC 9580 §5.13.1, tag 18) under AES, CFB mode, zero IV,
 * which is what pack-update (openpgp.js, no AEAD) and GnuPG 2.2 make. openpgp.js still
 * unwraps the session key from the PKESK and checks the signature over the plaintext
 * (unpack.ts); any other body (v2/AEAD, another cipher) goes its old way, through openpgp.js.
 *
 * The plaintext of a v1 SEIPD is a random prefix (block size + 2 octets), the inner
 * message, then the MDC packet: 0xD3 0x14 and the SHA-1 of everything before its last 20
 * octets. The last 22 octets are held back until the packet ends, so no MDC octet reaches
 * the inner message, and the end (null from `read`) is reported only once the MDC checked
 * out: a reader of the inner message sees its end only after the integrity check passed.
 */
import { createDecipheriv, createHash, type Decipher, type Hash, timingSafeEqual } from 'node:crypto';
import { readBodyLength } from '../crypto/packet-length.js';
import { REFUSAL, SecurityError } from '../errors.js';

const SEIPD_TAG_OCTET = 0xc0 | 18; // new packet format (a legacy header cannot carry tag 18)
const BLOCK_BYTES = 16;
const MDC_BYTES = 22;

/** The session-key algorithms (openpgp.js names) this module decrypts, with their key size. */
const CIPHERS: Record<string, { name: string; keyBytes: number }> = {
  aes128: { name: 'aes-128-cfb', keyBytes: 16 },
  aes192: { name: 'aes-192-cfb', keyBytes: 24 },
  aes256: { name: 'aes-256-cfb', keyBytes: 32 },
};

/**
 * Whether the encrypted data starting at `offset` of `head` is a v1 SEIPD this module can
 * decrypt with a session key of `algorithm` and `keyLength` octets.
 */
export function isFastSeipd(head: Uint8Array, offset: number, algorithm: string | null | undefined, keyLength: number): boolean {
  const cipher = algorithm ? CIPHERS[algorithm] : undefined;
  if (!cipher || cipher.keyBytes !== keyLength || head[offset] !== SEIPD_TAG_OCTET) return false;
  const length = readBodyLength(head, offset + 1);
  return length !== undefined && head[offset + 1 + length.size] === 1;
}

const tampered = (why: string) => new SecurityError(REFUSAL.PACKAGE_TAMPERED, `package does not decrypt intact: ${why}`);
const truncated = () => new SecurityError(REFUSAL.PACKAGE_TRUNCATED, 'package is truncated: it ends inside its encrypted data');

/**
 * Reads the inner message out of a v1 SEIPD packet, `source` yielding the package's bytes
 * from the packet's first octet (its tag) to the end of the file. A chunk of `source` is
 * used up before the next is asked for, and never kept: `source` may reuse its buffer.
 */
export class SeipdReader {
  private readonly decipher: Decipher;
  private readonly sha1: Hash = createHash('sha1');
  /** octets of the current body chunk still to come; -1 while a length header is awaited */
  private left = -1;
  private lastChunk = false;
  private started = false;
  private versionSeen = false;
  private prefixLeft = BLOCK_BYTES + 2;
  private pending: Buffer = Buffer.alloc(0);
  private held: Buffer = Buffer.alloc(0);
  /** inner-message pieces decrypted and not yet read */
  private ready: Buffer[] = [];
  private ended = false;
  /** reads run one after the other (openpgp.js's pulls and `drain` may overlap) */
  private queue: Promise<unknown> = Promise.resolve();
  /** the integrity or framing failure found, once found */
  failure?: SecurityError;

  constructor(
    private readonly source: AsyncIterator<Buffer>,
    key: Uint8Array,
    algorithm: string,
  ) {
    const cipher = CIPHERS[algorithm];
    if (!cipher || key.length !== cipher.keyBytes) throw new Error(`SeipdReader: no AES session key (${algorithm})`);
    this.decipher = createDecipheriv(cipher.name, key, Buffer.alloc(BLOCK_BYTES));
  }

  /** The next piece of the inner message; null at its end, once the MDC checked out. Throws the failure. */
  read(): Promise<Buffer | null> {
    const next = this.queue.then(() => this.readOne());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readOne(): Promise<Buffer | null> {
    if (this.failure) throw this.failure;
    try {
      for (;;) {
        const piece = this.ready.shift();
        if (piece) return piece;
        if (this.ended) return null;
        const next = await this.source.next();
        if (next.done) {
          this.finish();
          return null;
        }
        this.ready = this.take(next.value);
      }
    } catch (error) {
      if (error instanceof SecurityError) this.failure ??= error;
      throw error;
    }
  }

  /**
   * Read the rest of the packet (its plaintext dropped) to learn whether it is intact:
   * the integrity or framing failure, or undefined once the packet ended with its MDC
   * checked. Any other error (reading the file) is thrown.
   */
  async drain(): Promise<SecurityError | undefined> {
    try {
      while ((await this.read()) !== null) {
        /* the integrity verdict needs every octet */
      }
    } catch (error) {
      if (!this.failure) throw error;
    }
    return this.failure;
  }

  /**
   * Decrypt one read of the file; returns the inner-message octets it released, in pieces
   * (no copy of a big one: the held-back octets travel as a piece of their own).
   */
  private take(raw: Buffer): Buffer[] {
    const plain = this.decrypt(this.pending.length > 0 ? Buffer.concat([this.pending, raw]) : raw);
    // many small chunks (GnuPG frames 8 KiB) are joined: openpgp.js pays per piece
    const pieces = [this.held, ...(plain.length > 2 ? [Buffer.concat(plain)] : plain)];
    const out: Buffer[] = [];
    const held: Buffer[] = [];
    let keep = MDC_BYTES;
    for (let i = pieces.length - 1; i >= 0; i--) {
      const piece = pieces[i] as Buffer;
      const kept = Math.min(keep, piece.length);
      keep -= kept;
      if (kept > 0) held.unshift(piece.subarray(piece.length - kept));
      if (piece.length > kept) out.unshift(piece.subarray(0, piece.length - kept));
    }
    this.held = Buffer.concat(held);
    const released: Buffer[] = [];
    for (const piece of out) {
      this.sha1.update(piece);
      const skip = Math.min(this.prefixLeft, piece.length);
      this.prefixLeft -= skip;
      if (piece.length > skip) released.push(piece.subarray(skip));
    }
    return released;
  }

  /** Follow the packet's framing through `bytes`; the plaintext of its body octets. */
  private decrypt(bytes: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    this.pending = Buffer.alloc(0);
    if (!this.started) {
      if (bytes[0] !== SEIPD_TAG_OCTET) throw tampered('the encrypted data is not a v1 SEIPD packet');
      at = 1;
    }
    while (at < bytes.length) {
      if (this.left === 0 && this.lastChunk) throw tampered('data after the encrypted packet');
      if (this.left <= 0) {
        const length = readBodyLength(bytes, at);
        if (!length) {
          this.pending = Buffer.from(bytes.subarray(at));
          break;
        }
        at += length.size;
        this.left = length.length;
        this.lastChunk = !length.partial;
        continue;
      }
      const n = Math.min(this.left, bytes.length - at);
      let body = bytes.subarray(at, at + n);
      at += n;
      this.left -= n;
      if (!this.versionSeen) {
        if (body[0] !== 1) throw tampered('the encrypted packet is not version 1');
        this.versionSeen = true;
        body = body.subarray(1);
      }
      out.push(this.decipher.update(body));
    }
    this.started = true;
    return out;
  }

  /** The file ended: the packet must have ended with it, and its MDC must check out. */
  private finish(): void {
    if (this.pending.length > 0 || this.left !== 0 || !this.lastChunk) throw truncated();
    this.decipher.final();
    const mdc = this.held;
    if (mdc.length !== MDC_BYTES || this.prefixLeft > 0) throw tampered('the encrypted packet is too short to hold its MDC');
    this.sha1.update(mdc.subarray(0, 2));
    const digest = this.sha1.digest();
    if (mdc[0] !== 0xd3 || mdc[1] !== 0x14 || !timingSafeEqual(digest, mdc.subarray(2))) {
      throw tampered('modification detected (the MDC does not match)');
    }
    this.ended = true;
  }
}
