import { defineConfig } from 'vitest/config';

// Four projects (`vitest run --project NAME`):
//   unit     in-process tests, no servers
//   cli      the real binary (node bin/rds.js, from dist/, built when stale) in temp dirs,
//            no servers: init, keys, pack/apply-update, crash recovery, exit codes
//   e2e      against real Postfix+Dovecot, snmpd and snmpsim on 127.0.0.1, started once
//            per run by test/support/servers.ts (root + Debian packages needed:
//            scripts/testbed/install-deps.sh); read their addresses via test/support/testbed.ts
//   hostile  same servers (an instance of its own), for abuse/attack scenarios
//   pg       the PostgreSQL store against a real PostgreSQL (test/support/postgres.ts starts
//            a private one): migrations, the query translation, `rds store migrate`
//   cli-pg   the host-side cli files (PG_HOST_FILES) again with every host's state in
//            PostgreSQL (RDS_TEST_STORE=postgres: initHost makes a fresh database)
//   e2e-pg   the same for the mail flow, rollouts and hostile host mail on the real servers (PG_HOST_E2E_FILES)
// The groups run one after the other (sequence.groupOrder), so the slow server-backed
// files do not compete with each other for the 2 cores.
/** The host-side scenario re-run on PostgreSQL (docs/deployment.md#postgresql); budget ≤ 6 min of CI. */
export const PG_HOST_FILES = [
  'test/cli/rollouts-and-keys.test.ts',
  'test/cli/rollout-waves.test.ts',
  'test/cli/mail-flow-maildir.test.ts',
  'test/cli/devices-host.test.ts',
  'test/cli/registry-and-options.test.ts',
  'test/cli/outbox-and-sending.test.ts',
  'test/cli/quarantine.test.ts',
];

/** The host-side scenario on real mail servers, re-run on PostgreSQL. */
export const PG_HOST_E2E_FILES = [
  'test/e2e/mail-flow.test.ts',
  'test/e2e/rollouts.test.ts',
  'test/hostile/host-mail.test.ts',
  'test/e2e/workers.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cli',
          include: ['test/cli/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['./test/support/servers.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
      {
        extends: true,
        test: {
          name: 'hostile',
          include: ['test/hostile/**/*.test.ts'],
          // summary.ts prints "hostile: N cases tried, N refused as expected" at the end
          globalSetup: ['./test/support/servers.ts', './test/hostile/summary.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
      {
        extends: true,
        test: {
          name: 'pg',
          include: ['test/pg/**/*.test.ts'],
          globalSetup: ['./test/support/postgres.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 4 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cli-pg',
          include: PG_HOST_FILES,
          env: { RDS_TEST_STORE: 'postgres' },
          globalSetup: ['./test/support/postgres.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 5 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e-pg',
          include: PG_HOST_E2E_FILES,
          env: { RDS_TEST_STORE: 'postgres' },
          globalSetup: ['./test/support/servers.ts', './test/support/postgres.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 6 },
        },
      },
    ],
  },
});
