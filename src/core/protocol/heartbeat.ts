/**
 * heartbeat (agent → host): the agent is alive; the devices it watches and when each last
 * answered a poll (docs/protocol.md, docs/service.md). Extra fields are ignored.
 */
import { type BodyCodec, DECODE_LIMITS, Decoder } from './decoder.js';

export const HEARTBEAT = 'heartbeat';

export interface HeartbeatBody {
  devices: { deviceId: string; lastAnsweredAt: string | null }[];
}

export function encodeHeartbeat(body: HeartbeatBody): Record<string, unknown> {
  return { devices: body.devices.map((d) => ({ deviceId: d.deviceId, lastAnsweredAt: d.lastAnsweredAt })) };
}

export function decodeHeartbeat(value: unknown, now: Date): HeartbeatBody {
  const d: Decoder = new Decoder('heartbeat', now);
  const b = d.object(value, 'body');
  const devices = d.list(b.devices ?? [], 'devices', DECODE_LIMITS.readings).map((entry, i) => {
    const e = d.object(entry, `devices[${i}]`);
    return {
      deviceId: d.id(e.deviceId, `devices[${i}].deviceId`),
      lastAnsweredAt: d.optionalTime(e.lastAnsweredAt, `devices[${i}].lastAnsweredAt`),
    };
  });
  return { devices };
}

export const heartbeat: BodyCodec<HeartbeatBody> = { encode: encodeHeartbeat, decode: decodeHeartbeat };
