/**
 * counter-request (host → agent): "send me the counter readings I have not received". The
 * body is empty; the agent answers with a counter-report naming this request in
 * `inReplyTo` (docs/protocol.md). Extra fields are ignored.
 */
import { type BodyCodec, type EmptyBody, emptyBodyCodec } from './decoder.js';

export const COUNTER_REQUEST = 'counter-request';

export type CounterRequestBody = EmptyBody;

export const counterRequest: BodyCodec<CounterRequestBody> = emptyBodyCodec('counter request');
