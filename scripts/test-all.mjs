#!/usr/bin/env node
// `npm test`: run every test (vitest projects unit, cli, e2e, hostile, pg, cli-pg).
//   1. the e2e/hostile projects start real Postfix, Dovecot, snmpd and snmpsimd: install
//      them when missing (as root; otherwise say what to install and exit 2)
//   2. build dist/ when it is missing or older than src/ (the CLI under test runs from dist/)
//   3. npx vitest run [extra args], exiting with vitest's code
// Extra args pass through: `npm test -- --project unit`, `npm test -- test/e2e/servers.test.ts`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function onPath(bin) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'];
  return dirs.some((d) => d && existsSync(path.join(d, bin)));
}

/** Newest mtime (ms) of the files under dir that pass `keep`; 0 if there are none. */
function newest(dir, keep = () => true) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const f = path.join(e.parentPath ?? e.path, e.name);
    if (e.isFile() && keep(f)) t = Math.max(t, statSync(f).mtimeMs);
  }
  return t;
}

const missing = ['postfix', 'dovecot', 'snmpd', 'snmpsimd', 'ippeveprinter', 'chromium'].filter((b) => !onPath(b));
// the PostgreSQL store's tests (projects pg, cli-pg) start a private PostgreSQL
const pgBin =
  existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
if (!pgBin) missing.push('postgresql');
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`npm test: the real-server tests need ${missing.join(', ')}, which are not installed.`);
    console.error('Install them as root:  sudo scripts/testbed/install-deps.sh');
    console.error(
      '  (Debian: postfix dovecot-imapd dovecot-lmtpd dovecot-pop3d snmpd snmp snmpsim cups-ipp-utils dbus chromium openssl gnupg postgresql)',
    );
    console.error('or run the unit tests only:  npm run test:unit');
    process.exit(2);
  }
}
if (process.getuid?.() === 0) {
  // install-deps.sh checks every binary itself (POP3, IPP and the browser too) and runs
  // no apt-get when all are present
  const code = run('bash', ['scripts/testbed/install-deps.sh']);
  if (code !== 0) process.exit(code);
}

const sources = Math.max(
  newest('src', (f) => f.endsWith('.ts') && !f.endsWith('.test.ts')),
  ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)),
);
if (newest('dist') < sources) {
  console.log('npm test: dist/ is missing or stale, building');
  const code = run('npm', ['run', 'build']);
  if (code !== 0) process.exit(code);
}

process.exit(run('npx', ['--no-install', 'vitest', 'run', ...process.argv.slice(2)]));
