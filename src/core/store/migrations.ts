import { base } from './migrations/001-base.js';
import { devices } from './migrations/002-devices.js';
import { hostDevices } from './migrations/003-host-devices.js';
import { service } from './migrations/004-service.js';
import { outboxFailed } from './migrations/005-outbox-failed.js';
import { logTailQuarantine } from './migrations/006-log-tail-quarantine.js';
import { pop3 } from './migrations/007-pop3.js';
import { ippDriver } from './migrations/008-ipp-driver.js';
import { outboxRollout } from './migrations/009-outbox-rollout.js';
import { rolloutWaves } from './migrations/010-rollout-waves.js';
import { stagedUpdate } from './migrations/011-staged-update.js';
import { hostUptime } from './migrations/013-host-uptime.js';
import { audit } from './migrations/014-audit.js';
import { updateParts } from './migrations/015-update-parts.js';
import { hostUpdateParts } from './migrations/016-update-parts.js';
import { claims } from './migrations/017-claims.js';
import { lookupIndexes } from './migrations/018-lookup-indexes.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered schema migrations, applied in order inside one transaction each. */
export const MIGRATIONS: readonly Migration[] = [
  base,
  devices,
  hostDevices,
  service,
  outboxFailed,
  logTailQuarantine,
  pop3,
  ippDriver,
  outboxRollout,
  rolloutWaves,
  stagedUpdate,
  hostUptime,
  audit,
  updateParts,
  hostUpdateParts,
  claims,
  lookupIndexes,
];
