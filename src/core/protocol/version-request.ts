/**
 * version-request (host → agent): "send me your version report". The body is empty; the
 * agent answers with a version-report naming this request in `inReplyTo`
 * (docs/protocol.md). Extra fields are ignored.
 */
import { type BodyCodec, type EmptyBody, emptyBodyCodec } from './decoder.js';

export const VERSION_REQUEST = 'version-request';

export type VersionRequestBody = EmptyBody;

export const versionRequest: BodyCodec<VersionRequestBody> = emptyBodyCodec('version request');
