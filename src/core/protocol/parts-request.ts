/**
 * parts-request (agent → host): "these parts of a package never reached me"
 * (docs/protocol.md#update-parts). Sent when a package in reassembly is still incomplete
 * `requestMissingAfter` after its newest part arrived; the host re-sends just the listed
 * parts (a bounded number of times per agent and package). Extra fields are ignored.
 */
import { type BodyCodec, Decoder } from './decoder.js';
import { MAX_PARTS_ON_WIRE } from './update-part.js';

export const PARTS_REQUEST = 'parts-request';

export interface PartsRequestBody {
  rolloutId: string;
  packageId: string;
  /** 1-based part numbers, ascending, no duplicates, at least one */
  missing: number[];
}

export function encodePartsRequest(body: PartsRequestBody): Record<string, unknown> {
  return { rolloutId: body.rolloutId, packageId: body.packageId, missing: body.missing };
}

export function decodePartsRequest(value: unknown): PartsRequestBody {
  const d = new Decoder('parts-request');
  const b = d.object(value, 'body');
  const rolloutId = d.id(b.rolloutId, 'rolloutId');
  const packageId = d.id(b.packageId, 'packageId');
  const list = d.list(b.missing, 'missing', MAX_PARTS_ON_WIRE);
  if (list.length === 0) d.badField('missing', 'lists no part');
  let previous = 0;
  const missing = list.map((n, i): number => {
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) return d.malformed(`missing[${i}]`, `missing[${i}] is not an integer`);
    if (n <= previous || n > MAX_PARTS_ON_WIRE) d.badField(`missing[${i}]`, `must ascend, without repeats, within 1..${MAX_PARTS_ON_WIRE}`);
    previous = n;
    return n;
  });
  return { rolloutId, packageId, missing };
}

export const partsRequest: BodyCodec<PartsRequestBody> = { encode: encodePartsRequest, decode: decodePartsRequest };
