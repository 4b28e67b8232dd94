/**
 * version-request (host → agent): "send me your version report". The body is empty; the
 * agent answers with a version-report naming this request in `inReplyTo`
 * (docs/protocol.md). Extra fields are ignored.
 */
import { type BodyCodec, Decoder } from './decoder.js';

export const VERSION_REQUEST = 'version-request';

export type VersionRequestBody = Record<string, never>;

export function encodeVersionRequest(_body: VersionRequestBody): Record<string, unknown> {
  return {};
}

export function decodeVersionRequest(value: unknown): VersionRequestBody {
  new Decoder('version request').object(value, 'body');
  return {};
}

export const versionRequest: BodyCodec<VersionRequestBody> = { encode: encodeVersionRequest, decode: decodeVersionRequest };
