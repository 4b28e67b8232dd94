// docs/deployment.md §1 as written: ops/setup-host.sh (the script the guide runs) as root,
// creating a throw-away system user in place of `rds`, then the guide's checks AS that user:
// RDS_CONFIG, `agents list`, the cron line's `rds inbox 2>>LOG` (timestamped log lines),
// and the backup of keys, config and the state dir. Embedded backend (maildir), no servers.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, ROOT, tempDir } from '../support/cli.js';

const user = `rdsg${process.pid % 100000}`;
let root: string;
let shim: string;
let env: NodeJS.ProcessEnv;

/** Run as the throw-away user (runuser keeps the environment, as the guide relies on). */
function asUser(args: string[], extra: NodeJS.ProcessEnv = {}) {
  return spawnSync('runuser', ['-u', user, '--', ...args], { env: { ...env, ...extra }, encoding: 'utf8', cwd: '/' });
}

function owner(file: string): { uid: number; mode: number } {
  const st = fs.statSync(file);
  return { uid: st.uid, mode: st.mode & 0o7777 };
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('this test creates a system user: run it as root (CI does)');
  ensureBuilt();
  root = tempDir('rds-guide-');
  fs.chmodSync(root, 0o755);
  // `rds` on the PATH, as after `npm install -g`
  shim = path.join(root, 'bin');
  fs.mkdirSync(shim);
  fs.writeFileSync(path.join(shim, 'rds'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, { mode: 0o755 });
  env = { PATH: `${shim}:/usr/sbin:/usr/bin:/sbin:/bin`, LANG: 'C.UTF-8', NO_COLOR: '1' };
}, 120_000);

afterAll(() => {
  spawnSync('userdel', [user]);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('docs/deployment.md §1 (ops/setup-host.sh) as an unprivileged user', () => {
  it('sets up the host as the user, who then runs the guide commands with RDS_CONFIG', () => {
    const etc = path.join(root, 'etc-rds');
    const v = path.join(root, 'var-lib-rds');
    const logs = path.join(root, 'var-log-rds');
    const mail = path.join(v, 'mail');
    const setup = spawnSync('sh', [path.join(ROOT, 'ops', 'setup-host.sh')], {
      env: {
        ...env,
        RDS_USER: user,
        RDS_ETC: etc,
        RDS_VAR: v,
        RDS_LOG_DIR: logs,
        RDS_ADDRESS: 'rds@center.example',
        RDS_SMTP: `maildir://${mail}`,
        RDS_IMAP: `maildir://${mail}`,
      },
      encoding: 'utf8',
      cwd: '/',
    });
    expect(setup.status, `${setup.stdout}\n${setup.stderr}`).toBe(0);
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    expect(uid).not.toBe(0);
    for (const dir of [etc, v, logs, path.join(v, 'state'), path.join(etc, 'keys')]) expect(owner(dir), dir).toEqual({ uid, mode: 0o700 });
    expect(owner(path.join(etc, 'config.json'))).toEqual({ uid, mode: 0o600 });
    expect(owner(path.join(etc, 'keys', 'private.asc'))).toEqual({ uid, mode: 0o600 });
    expect(owner(path.join(v, 'state', 'state.db')).uid).toBe(uid);
    expect(JSON.parse(fs.readFileSync(path.join(etc, 'config.json'), 'utf8')).stateDir).toBe(path.join(v, 'state'));

    const config = { RDS_CONFIG: path.join(etc, 'config.json') };
    const list = asUser(['rds', '--json', 'agents', 'list'], config);
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ agents: [] });
    // the guide's next step: rds doctor as the user passes every check (owners, modes, key, mail)
    const doctor = asUser(['rds', '--json', 'doctor'], config);
    expect(doctor.status, doctor.stdout + doctor.stderr).toBe(0);
    expect((JSON.parse(doctor.stdout) as { checks: { ok: boolean }[] }).checks.every((c) => c.ok)).toBe(true);

    // the cron line (ops/cron/rds-host): stderr appended to the log folder, one stamped line each
    // one stray mail in the host's mailbox, so the pass has something to log (a refusal)
    const box = path.join(mail, 'rds@center.example');
    for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(box, sub), { recursive: true });
    fs.writeFileSync(path.join(box, 'new', '1.stray'), 'From: someone@else.example\r\nSubject: hello\r\n\r\nnot rds\r\n');
    execFileSync('chown', ['-R', `${user}:`, mail]);
    const log = path.join(logs, 'host.log');
    const inbox = asUser(['sh', '-c', `rds inbox 2>>'${log}'`], config);
    // the stray mail is refused and quarantined: exit 4 (README exit codes), the log says why
    expect(inbox.status, fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : inbox.stderr).toBe(4);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.some((l) => l.includes('warn: mail quarantined code=UNKNOWN_SENDER'))).toBe(true);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error): /);

    // §5: the backup holds the keys, the config and the state dir
    const backup = path.join(v, 'backup.tgz');
    const tar = asUser(['sh', '-c', `tar czf - -C '${etc}' keys config.json -C '${v}' state > '${backup}.part'`]);
    expect(tar.status, tar.stderr).toBe(0);
    const listed = execFileSync('tar', ['tzf', `${backup}.part`], { encoding: 'utf8' }).split('\n');
    expect(listed).toEqual(expect.arrayContaining(['keys/private.asc', 'config.json', 'state/state.db']));
  });

  it("the guide runs the tested script, and every unit's Documentation= is the man page that ships", () => {
    const guide = fs.readFileSync(path.join(ROOT, 'docs', 'deployment.md'), 'utf8');
    expect(guide).toContain('sh "$OPS/setup-host.sh"');
    expect(guide).toContain('--state-dir /var/lib/rds/state');
    expect(guide).toContain('runuser -u rds -- rds doctor');
    const units = fs.readdirSync(path.join(ROOT, 'ops', 'systemd')).filter((f) => f.endsWith('.service'));
    expect(units.length).toBeGreaterThan(0);
    for (const unit of units) {
      const text = fs.readFileSync(path.join(ROOT, 'ops', 'systemd', unit), 'utf8');
      expect(text.match(/^Documentation=(.*)$/m)?.[1], unit).toBe('man:rds(1)');
      expect(text, unit).toMatch(/^User=rds$/m);
    }
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).man).toEqual(['./man/rds.1']);
  });
});
