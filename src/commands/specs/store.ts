/** The host's store: moving its state from the state dir's SQLite to PostgreSQL (docs/deployment.md#postgresql). */
import { defineCommand } from './define.js';

export const storeMigrate = defineCommand({
  name: 'migrate',
  description: "host: copy this host's SQLite state into PostgreSQL, verified by row counts per table",
  flags: [
    { flags: '--to <url>', description: 'the PostgreSQL store: postgres://USER@HOST:PORT/DB[?sslmode=disable]', mandatory: true },
    {
      flags: '--store-password-file <file>',
      description: "the PostgreSQL password (else RDS_STORE_PASSWORD, else the config's storePasswordFile)",
    },
    { flags: '--force', description: 'replace what the PostgreSQL store already holds' },
  ],
  help: `
Stop the host's timers first; the copy holds every lock of the state dir while it runs.
Afterwards set "store" (and "storePasswordFile") in the config.

Example:
  RDS_STORE_PASSWORD=… rds store migrate --to postgres://rds@db.example.com:5432/rds`,
});
