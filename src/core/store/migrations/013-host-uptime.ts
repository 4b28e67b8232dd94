import type { Migration } from '../migrations.js';

/**
 * A host's (device kind `host`) last hrSystemUptime, kept with its poll state so the next
 * watch-faults poll sees the uptime go back: the host restarted (docs/devices.md#hosts).
 */
export const hostUptime: Migration = {
  version: 13,
  name: 'host-uptime',
  sql: 'ALTER TABLE device_poll_state ADD COLUMN uptime INTEGER;',
};
