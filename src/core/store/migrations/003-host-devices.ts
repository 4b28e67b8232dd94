import type { Migration } from '../migrations.js';

/** What the host receives of devices: fault events (stored once, acked each time) and counter readings. */
export const hostDevices: Migration = {
  version: 3,
  name: 'host-devices',
  sql: `
    CREATE TABLE host_faults (
      agent_id TEXT NOT NULL,
      event_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      code TEXT NOT NULL,
      subunit TEXT NOT NULL,
      severity TEXT NOT NULL,
      source TEXT,
      raised_at TEXT NOT NULL,
      cleared_at TEXT,
      received_at TEXT NOT NULL,
      reports INTEGER NOT NULL DEFAULT 1,
      acked_at TEXT,
      PRIMARY KEY (agent_id, event_id)
    );
    CREATE INDEX host_faults_open ON host_faults(cleared_at) WHERE cleared_at IS NULL;
    CREATE TABLE host_counters (
      agent_id TEXT NOT NULL,
      reading_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      serial TEXT,
      read_at TEXT NOT NULL,
      total INTEGER,
      mono INTEGER,
      colour INTEGER,
      reading TEXT NOT NULL,
      received_at TEXT NOT NULL,
      PRIMARY KEY (agent_id, reading_id)
    );
    CREATE INDEX host_counters_time ON host_counters(read_at);
  `,
};
