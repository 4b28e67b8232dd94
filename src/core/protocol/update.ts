/**
 * update (host → agent): install the package attached as update.rdsu. Sent by push-all; the
 * agent checks the package's signatures and that it carries `softwareVersion`
 * (docs/protocol.md). Extra fields are ignored.
 */
import { type BodyCodec, Decoder } from './decoder.js';

export const UPDATE = 'update';

export interface UpdateBody {
  rolloutId: string;
  packageId?: string;
  softwareVersion: string;
}

export function encodeUpdate(body: UpdateBody): Record<string, unknown> {
  return {
    rolloutId: body.rolloutId,
    ...(body.packageId === undefined ? {} : { packageId: body.packageId }),
    softwareVersion: body.softwareVersion,
  };
}

export function decodeUpdate(value: unknown): UpdateBody {
  const d: Decoder = new Decoder('update');
  const b = d.object(value, 'body');
  const lacks = 'update payload lacks rolloutId/softwareVersion';
  if (typeof b.rolloutId !== 'string') d.refuse('rolloutId', lacks);
  if (typeof b.softwareVersion !== 'string') d.refuse('softwareVersion', lacks);
  return {
    rolloutId: b.rolloutId,
    ...(typeof b.packageId === 'string' ? { packageId: b.packageId } : {}),
    softwareVersion: b.softwareVersion,
  };
}

export const update: BodyCodec<UpdateBody> = { encode: encodeUpdate, decode: decodeUpdate };
