// The files and folders rds trusts (issue 9 part 4), through the real binary, with a real
// unprivileged user (`nobody`, via setpriv) as the attacker: whatever another user could
// change — the config, the private key, the pinned host key, the state dir, the install
// root, the Maildir tree, a folder above any of them — makes every command stop at its
// start with exit 2 and one line naming the path, what was found and the fix, before it
// reads a key or touches the state. `rds init` into an existing folder fixes a loose mode
// of a folder that is ours and refuses one owned by another user. And a symlink planted
// where rds writes (a quarantine reason, a Maildir, the install log) is never followed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  type AgentNode,
  currentRelease,
  ensureBuilt,
  type HostNode,
  initAgent,
  initHost,
  rds,
  rdsExpect,
  tempDir,
  wrapForAgent,
  writeScript,
} from '../support/cli.js';
import { hostileTally } from './helpers.js';

const { hostileCase } = hostileTally('file-trust');
const NOBODY = 65534;
const NOGROUP = 65534;

let root: string;
let host: HostNode;
let A: AgentNode;

/** Run a shell command as the real user `nobody` (no groups): the attacker on the box. */
function asNobody(script: string): void {
  execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '/bin/sh', '-c', script], { stdio: 'pipe' });
}

/** Change something for one case, and always put it back. */
async function withChange(change: () => void, undo: () => void, fn: () => Promise<void>): Promise<void> {
  change();
  try {
    await fn();
  } finally {
    undo();
  }
}

/** The command stops at its start: exit 2, exactly one line on stderr, naming `what` and the fix. */
async function refused(config: string, args: string[], expected: RegExp[]): Promise<string> {
  const r = await rds(['--config', config, ...args], { cwd: root });
  const lines = r.stderr.trim().split('\n');
  expect(r.code, r.stderr).toBe(2);
  expect(lines).toHaveLength(1);
  for (const re of expected) expect(lines[0]).toMatch(re);
  expect(r.stderr).not.toMatch(/this is a bug|at .*\.js:\d+/);
  return lines[0] ?? '';
}

function modeOf(file: string): number {
  return fs.lstatSync(file).mode & 0o7777;
}

beforeAll(async () => {
  ensureBuilt();
  expect(process.geteuid?.(), 'the file-trust cases chown files to nobody: run as root').toBe(0);
  root = tempDir('rds-hostile-trust-');
  fs.chmodSync(root, 0o755); // nobody may pass through (not write): the attacker reaches what is open to it
  host = await initHost(root);
  A = await initAgent(root, host, { id: 'AGENTA' });
  // the agent's Maildir, as its first poll leaves it
  await rdsExpect(0, ['--config', A.config, 'poll-mail'], { cwd: root });
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('a command refuses what another user could have changed', () => {
  hostileCase('config writable by group and world', async () => {
    const mode = modeOf(A.config);
    await withChange(
      () => fs.chmodSync(A.config, 0o666),
      () => fs.chmodSync(A.config, mode),
      async () => {
        await refused(
          A.config,
          ['devices', 'list'],
          [/^rds: config .*AGENTA\/config\.json is mode 0666/, /every user may change it/, /fix: chmod go-w /],
        );
      },
    );
  });

  hostileCase('config owned by nobody (planted by the attacker)', async () => {
    await withChange(
      () => fs.chownSync(A.config, NOBODY, NOGROUP),
      () => fs.chownSync(A.config, 0, 0),
      async () => {
        await refused(
          A.config,
          ['keys', 'show'],
          [/config .*config\.json is owned by uid 65534 \(nobody\), not by uid 0 \(root\) or root/, /fix: chown root /],
        );
      },
    );
  });

  hostileCase('private key readable by others', async () => {
    const key = path.join(A.dir, 'keys', 'private.asc');
    await withChange(
      () => fs.chmodSync(key, 0o644),
      () => fs.chmodSync(key, 0o600),
      async () => {
        await refused(A.config, ['keys', 'show'], [/private key .*private\.asc is mode 0644 \(others may read it\)/, /fix: chmod 600 /]);
      },
    );
  });

  hostileCase('pinned host key replaced by a file nobody owns', async () => {
    const pinned = path.join(A.dir, 'keys', 'host.asc');
    await withChange(
      () => fs.chownSync(pinned, NOBODY, NOGROUP),
      () => fs.chownSync(pinned, 0, 0),
      async () => {
        await refused(A.config, ['poll-mail'], [/pinned host key .*host\.asc is owned by uid 65534 \(nobody\)/]);
      },
    );
  });

  hostileCase('host key pinned through a symlink that nobody owns', async () => {
    const pinned = path.join(A.dir, 'keys', 'host.asc');
    const real = path.join(A.dir, 'keys', 'host-real.asc');
    await withChange(
      () => {
        fs.renameSync(pinned, real);
        fs.symlinkSync(real, pinned);
        fs.lchownSync(pinned, NOBODY, NOGROUP);
      },
      () => {
        fs.rmSync(pinned);
        fs.renameSync(real, pinned);
      },
      async () => {
        await refused(A.config, ['poll-mail'], [/pinned host key .*host\.asc \(a symlink\) is owned by uid 65534/]);
      },
    );
  });

  hostileCase('state dir open to every user', async () => {
    await withChange(
      () => fs.chmodSync(A.stateDir, 0o777),
      () => fs.chmodSync(A.stateDir, 0o700),
      async () => {
        const before = fs.readdirSync(A.stateDir).sort();
        await refused(A.config, ['devices', 'list'], [/state dir .*state is mode 0777/, /fix: chmod go-w /]);
        expect(fs.readdirSync(A.stateDir).sort()).toEqual(before);
      },
    );
  });

  hostileCase('install root owned by nobody', async () => {
    await withChange(
      () => fs.chownSync(A.installRoot, NOBODY, NOGROUP),
      () => fs.chownSync(A.installRoot, 0, 0),
      async () => {
        await refused(A.config, ['devices', 'list'], [/install root .*install is owned by uid 65534/]);
      },
    );
  });

  hostileCase('Maildir root writable by its group', async () => {
    const mail = path.join(root, 'mail');
    const mode = modeOf(mail);
    await withChange(
      () => fs.chmodSync(mail, 0o775),
      () => fs.chmodSync(mail, mode),
      async () => {
        await refused(host.config, ['request-versions'], [/Maildir root .*mail is mode 0775 \(its group may change it\)/]);
      },
    );
  });

  hostileCase('a folder above the config writable by every user (no sticky bit)', async () => {
    const mode = modeOf(root);
    await withChange(
      () => fs.chmodSync(root, 0o777),
      () => fs.chmodSync(root, mode),
      async () => {
        await refused(
          host.config,
          ['agents', 'list'],
          [/folder .*rds-hostile-trust-[^ ]+ above config .* is mode 0777 \(its group and every user may replace what is in it\)/],
        );
      },
    );
  });

  hostileCase('the same folder with the sticky bit (like /tmp) is accepted', async () => {
    const mode = modeOf(root);
    await withChange(
      () => fs.chmodSync(root, 0o1777),
      () => fs.chmodSync(root, mode),
      async () => {
        await rdsExpect(0, ['--config', host.config, 'agents', 'list'], { cwd: root });
      },
    );
  });

  hostileCase('a real nobody cannot change a file rds made, and one it planted is refused', async () => {
    // what rds creates is closed to others: nobody's attempt to overwrite the config fails
    expect(() => asNobody(`echo '{}' > '${A.config}'`)).toThrow();
    // a folder the operator opened by mistake lets nobody plant a passphrase file there
    const drop = path.join(root, 'drop');
    fs.mkdirSync(drop, { mode: 0o755 });
    fs.chownSync(drop, NOBODY, NOGROUP);
    asNobody(`umask 077; echo pass > '${drop}/passphrase'`);
    const config = JSON.parse(fs.readFileSync(A.config, 'utf8'));
    const edited = path.join(A.dir, 'config-planted.json');
    fs.writeFileSync(edited, JSON.stringify({ ...config, keyPassphraseFile: path.join(drop, 'passphrase') }), { mode: 0o600 });
    await refused(edited, ['keys', 'show'], [/key passphrase file .*drop\/passphrase is owned by uid 65534 \(nobody\)/]);
  });
});

describe('rds init into a folder that exists', () => {
  hostileCase('a folder of ours left 0777 is fixed to 0700, and init says so', async () => {
    const dir = path.join(root, 'loose');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    const mail = `maildir://${path.join(root, 'mail')}`;
    const r = await rdsExpect(
      0,
      ['init', '--role', 'host', '--id', 'H2', '--address', 'h2@example.com', '--smtp', mail, '--imap', mail, '--dir', dir],
      { cwd: root },
    );
    expect(r.stdout).toMatch(/fixed +config folder .*loose was mode 0777; now 0700/);
    expect(modeOf(dir)).toBe(0o700);
  });

  hostileCase('a folder owned by nobody is refused and nothing is written', async () => {
    const dir = path.join(root, 'theirs');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chownSync(dir, NOBODY, NOGROUP);
    const mail = `maildir://${path.join(root, 'mail')}`;
    const r = await rds(
      ['init', '--role', 'host', '--id', 'H3', '--address', 'h3@example.com', '--smtp', mail, '--imap', mail, '--dir', dir],
      {
        cwd: root,
      },
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/config folder .*theirs is owned by uid 65534 \(nobody\).*fix: chown root /);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('a symlink planted where rds writes is never followed', () => {
  hostileCase('a quarantine reason file planted by nobody as a symlink to a root-owned file', async () => {
    const victim = path.join(root, 'victim.txt');
    fs.writeFileSync(victim, 'precious\n', { mode: 0o644 });
    const mailbox = path.join(root, 'mail', 'agenta@example.com');
    const name = `${Math.floor(Date.now() / 1000)}.M1P1Q1Rplanted.test,S=10`;
    fs.writeFileSync(path.join(mailbox, 'new', name), 'From: x@y\r\nSubject: not rds\r\n\r\nhello\r\n', { mode: 0o600 });
    const reasons = path.join(mailbox, '.rds-quarantine', 'rds-reasons');
    fs.mkdirSync(reasons, { recursive: true, mode: 0o700 });
    // the attacker could write here (a mistake the start check does not see this deep)
    fs.chownSync(reasons, NOBODY, NOGROUP);
    for (const dir of [path.join(root, 'mail'), mailbox, path.dirname(reasons)]) fs.chmodSync(dir, 0o711);
    asNobody(`ln -s '${victim}' '${reasons}/${name}.reason'`);
    await rdsExpect(4, ['--config', A.config, 'poll-mail'], { cwd: root });
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    const reason = path.join(reasons, `${name}.reason`);
    expect(fs.lstatSync(reason).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(reason, 'utf8')).toMatch(/\S/);
    expect(fs.existsSync(path.join(mailbox, '.rds-quarantine', 'cur', `${name}:2,S`))).toBe(true);
  });

  hostileCase("a recipient's Maildir replaced by a symlink gets no delivery", async () => {
    const elsewhere = tempDir('rds-hostile-elsewhere-');
    const mailbox = path.join(root, 'mail', 'agenta@example.com');
    const moved = `${mailbox}.moved`;
    await withChange(
      () => {
        fs.renameSync(mailbox, moved);
        fs.symlinkSync(elsewhere, mailbox);
      },
      () => {
        fs.rmSync(mailbox);
        fs.renameSync(moved, mailbox);
      },
      async () => {
        const r = await rds(['--config', host.config, 'request-versions', '--agents', A.id], { cwd: root });
        // a tree rds does not trust is a config problem: exit 2, the request stays queued
        expect(r.code, r.stderr).toBe(2);
        expect(r.stdout).toMatch(/^mail: 0 sent, 1 still queued: Maildir .* is a symlink/m);
        expect(r.stderr).toMatch(/Maildir .*agenta@example\.com is a symlink/);
        expect(fs.readdirSync(elsewhere).flatMap((d) => fs.readdirSync(path.join(elsewhere, d)))).toEqual([]);
      },
    );
  });

  hostileCase('an install log planted as a symlink: the update is refused before any step, the target untouched', async () => {
    const victim = path.join(root, 'victim-log.txt');
    fs.writeFileSync(victim, 'precious\n', { mode: 0o644 });
    const modules = path.join(root, 'build');
    fs.mkdirSync(modules, { recursive: true });
    fs.writeFileSync(path.join(modules, 'tool'), 'v2');
    const script = writeScript(path.join(root, 'install.sh'), 'cp -R "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"');
    const file = path.join(root, 'update.rdsu');
    const packed = await rdsExpect(
      0,
      [
        '--json',
        '--config',
        host.config,
        'pack-update',
        '--software-version',
        '1.0.02-0',
        '--script',
        script,
        '--module',
        `tool=1.0.01:${path.join(modules, 'tool')}`,
        '-o',
        file,
      ],
      { cwd: root },
    );
    const { packageId } = JSON.parse(packed.stdout) as { packageId: string };
    const logs = path.join(A.stateDir, 'logs');
    fs.mkdirSync(logs, { recursive: true, mode: 0o700 });
    const log = path.join(logs, `install-${packageId}.log`);
    fs.symlinkSync(victim, log);
    const before = currentRelease(A);
    const forAgent = await wrapForAgent(host, file, A.publicKeyFile);
    const r = await rds(['--config', A.config, 'apply-update', forAgent], { cwd: root });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toBe(`rds: install log ${log} is a symlink; fix: remove it`);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(currentRelease(A)).toBe(before);
    fs.rmSync(log);
  });
});
