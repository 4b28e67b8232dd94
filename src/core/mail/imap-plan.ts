/**
 * Pure planning for the IMAP inbox (imap.ts): which mails go into which body FETCH, and
 * how UID sets are written on the wire.
 */

/** A waiting mail. `size` is exact when the mail is over the listing threshold, else unknown (≤ threshold). */
export interface Waiting {
  uid: number;
  size?: number;
}

export interface BatchLimits {
  /** Mails per FETCH. */
  count: number;
  /** Body bytes per FETCH (a single bigger mail still comes alone). */
  bytes: number;
  /** Assumed size of a mail whose size is unknown. */
  threshold: number;
  /** Mails over this are not downloaded, so they cost nothing. */
  maxSize: number;
}

/**
 * The size below which a mail's exact size is not worth a FETCH line of its own: small mails
 * are batched as if each were this big, so a batch stays within `bytes` in the worst case.
 */
export function sizeThreshold(limits: Pick<BatchLimits, 'count' | 'bytes' | 'maxSize'>): number {
  return Math.floor(Math.min(limits.maxSize, limits.bytes / limits.count));
}

export function planBatches(waiting: Waiting[], limits: BatchLimits): Waiting[][] {
  const batches: Waiting[][] = [];
  let batch: Waiting[] = [];
  let bytes = 0;
  for (const message of waiting) {
    const size = message.size ?? limits.threshold;
    const cost = size <= limits.maxSize ? size : 0;
    if (batch.length > 0 && (batch.length >= limits.count || bytes + cost > limits.bytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += cost;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** `1:3,7,9:10` (RFC 3501 §9 sequence-set) from UIDs in any order. */
export function toSequenceSet(uids: number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}
