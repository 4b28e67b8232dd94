/**
 * The message protocol (docs/protocol.md): every body type a payload can carry, by its
 * type name, with its one encoder (what the sender signs) and its one strict decoder (what
 * the receiver acts on). Senders encode through `encodeBody`, receivers decode through
 * `decodeBody` (or `bodyHandler`, which registers a handler for one type); a type not in
 * this table is refused as UNKNOWN_TYPE by the receiving loop (message/inbound.ts).
 */
import type { Handler, HandlerInput } from '../message/inbound.js';
import { COUNTER_REPORT, counterReport } from './counter-report.js';
import { COUNTER_REQUEST, counterRequest } from './counter-request.js';
import type { BodyCodec } from './decoder.js';
import { FAULT_ACK, faultAck } from './fault-ack.js';
import { FAULT_REPORT, faultReport } from './fault-report.js';
import { HEARTBEAT, heartbeat } from './heartbeat.js';
import { KEY_ROTATION, keyRotation } from './key-rotation.js';
import { PARTS_REQUEST, partsRequest } from './parts-request.js';
import { UPDATE, update } from './update.js';
import { UPDATE_PART, updatePart } from './update-part.js';
import { UPDATE_RESULT, updateResult } from './update-result.js';
import { VERSION_REPORT, versionReport } from './version-report.js';
import { VERSION_REQUEST, versionRequest } from './version-request.js';

export const PROTOCOL = {
  [UPDATE]: update, // host → agent: install the attached package
  [UPDATE_PART]: updatePart, // host → agent: one part of a package too large for one mail (update.part)
  [PARTS_REQUEST]: partsRequest, // agent → host: re-send these parts
  [UPDATE_RESULT]: updateResult, // agent → host: installed / rolled-back / refused, with the version report
  [VERSION_REQUEST]: versionRequest, // host → agent
  [VERSION_REPORT]: versionReport, // agent → host
  [FAULT_REPORT]: faultReport, // agent → host
  [FAULT_ACK]: faultAck, // host → agent
  [COUNTER_REQUEST]: counterRequest, // host → agent
  [COUNTER_REPORT]: counterReport, // agent → host
  [KEY_ROTATION]: keyRotation, // host → agent: a new host key, signed by the old one
  [HEARTBEAT]: heartbeat, // agent → host: still here; the devices it watches and when each last answered
} as const;

export type MessageType = keyof typeof PROTOCOL;
/** The typed body of one message type. */
export type BodyOf<T extends MessageType> = (typeof PROTOCOL)[T] extends BodyCodec<infer B> ? B : never;
/** Any message body. */
export type MessageBody = { [T in MessageType]: BodyOf<T> }[MessageType];

export const MESSAGE_TYPES = Object.keys(PROTOCOL) as MessageType[];

export function isMessageType(type: string): type is MessageType {
  return Object.hasOwn(PROTOCOL, type);
}

export function encodeBody<T extends MessageType>(type: T, body: BodyOf<T>): Record<string, unknown> {
  return (PROTOCOL[type] as BodyCodec<BodyOf<T>>).encode(body);
}

export function decodeBody<T extends MessageType>(type: T, value: unknown, now: Date): BodyOf<T> {
  return (PROTOCOL[type] as BodyCodec<BodyOf<T>>).decode(value, now);
}

/**
 * A receiver's handler for one type: the payload body is decoded strictly first (a bad body
 * is refused and quarantined before anything runs), then `handle` gets the typed body.
 */
export function bodyHandler<T extends MessageType>(
  type: T,
  clock: { now(): Date },
  handle: (body: BodyOf<T>, input: HandlerInput) => Promise<string>,
): Handler {
  return async (input) => handle(decodeBody(type, input.accepted.payload.body, clock.now()), input);
}

export type { BodyCodec } from './decoder.js';
export { DecodeError } from './decoder.js';
