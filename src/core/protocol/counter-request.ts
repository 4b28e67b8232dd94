/**
 * counter-request (host → agent): "send me the counter readings I have not received". The
 * body is empty; the agent answers with a counter-report naming this request in
 * `inReplyTo` (docs/protocol.md). Extra fields are ignored.
 */
import { type BodyCodec, Decoder } from './decoder.js';

export const COUNTER_REQUEST = 'counter-request';

export type CounterRequestBody = Record<string, never>;

export function encodeCounterRequest(_body: CounterRequestBody): Record<string, unknown> {
  return {};
}

export function decodeCounterRequest(value: unknown): CounterRequestBody {
  new Decoder('counter request').object(value, 'body');
  return {};
}

export const counterRequest: BodyCodec<CounterRequestBody> = { encode: encodeCounterRequest, decode: decodeCounterRequest };
