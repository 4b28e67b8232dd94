// Vitest globalSetup for the PostgreSQL projects (`pg`, `cli-pg`; see vitest.config.ts):
// a private PostgreSQL (Debian's postgresql, 15 on Debian 12) started by
// scripts/testbed/start-postgres.sh in a temp dir on a free loopback port, password
// auth over TCP, stopped afterwards. A missing server is an error, never a skip.
// Tests read it with test/support/pg.ts (a fresh database per host).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const SCRIPTS = fileURLToPath(new URL('../../scripts/testbed', import.meta.url));
const execFileP = promisify(execFile);

declare module 'vitest' {
  export interface ProvidedContext {
    /** the test PostgreSQL: 127.0.0.1:pgPort, superuser pgUser / pgPassword */
    pgPort: number;
    pgUser: string;
    pgPassword: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rds-pg-')), 'pg');
  const password = randomBytes(12).toString('hex');
  const user = 'rds';
  const stop = () => {
    try {
      execFileSync(path.join(SCRIPTS, 'stop-postgres.sh'), [dir], { stdio: 'ignore' });
    } catch {
      /* reported by the next run's start if it matters */
    }
  };
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      const { stdout } = await execFileP(path.join(SCRIPTS, 'start-postgres.sh'), [dir], {
        env: { ...process.env, PG_PORT: String(port), PG_USER: user, PG_PASSWORD: password },
        timeout: 120_000,
      });
      console.log(`testbed [${project.name}] ${stdout.trim()}`);
      break;
    } catch (e) {
      stop();
      const err = e as Error & { stderr?: string };
      if (attempt >= 2 || !/port taken/.test(err.stderr ?? '')) {
        throw new Error(`testbed: start-postgres.sh failed: ${err.message}\n${err.stderr ?? ''}`);
      }
    }
  }
  process.once('exit', stop);
  project.provide('pgPort', port);
  project.provide('pgUser', user);
  project.provide('pgPassword', password);
  return () => {
    process.off('exit', stop);
    stop();
  };
}
