import type { Migration } from '../migrations.js';

/** The IPP driver (issue 16): SQLite cannot change a CHECK, so the devices table is rebuilt with 'ipp' allowed. */
export const ippDriver: Migration = {
  version: 8,
  name: 'ipp-driver',
  sql: `
    CREATE TABLE devices_new (
      id TEXT PRIMARY KEY,
      driver TEXT NOT NULL CHECK (driver IN ('snmp', 'ipp', 'simulated')),
      config TEXT NOT NULL,
      added_at TEXT NOT NULL
    );
    INSERT INTO devices_new (id, driver, config, added_at) SELECT id, driver, config, added_at FROM devices;
    DROP TABLE devices;
    ALTER TABLE devices_new RENAME TO devices;
  `,
};
