import type { Migration } from '../migrations.js';

/**
 * A host's (device kind `host`) last hrSystemUptime, kept with its poll state so the next
 * watch-faults poll sees the uptime go back: the host restarted (docs/devices.md#hosts).
 * A device's serial as `devices discover` found it, so the same serial at a new address
 * is that device moved, not a new one (docs/devices.md#discovery).
 */
export const hostUptime: Migration = {
  version: 13,
  name: 'host-uptime-device-serial',
  sql: `
    ALTER TABLE device_poll_state ADD COLUMN uptime INTEGER;
    ALTER TABLE devices ADD COLUMN serial TEXT;
  `,
};
