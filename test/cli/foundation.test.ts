// The foundation through the real binary (`node bin/rds.js`, compiled dist/): init, keys,
// registry, pack-update, apply-update with its journal and crash recovery, versions, exit
// codes (docs/commands.md#exit-codes: 0 ok, 1 failed, 2 usage, 3 transient, 4 security), file modes.
// These tests re-wrap the host's package for one agent through the core API
// (test/support/cli.ts wrapForAgent), as push-all does, to test apply-update alone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVersionText } from '../../src/core/version/version-text.js';
import {
  type AgentNode,
  BIN,
  currentRelease,
  ensureBuilt,
  type HostNode,
  initAgent,
  initHost,
  linesOf,
  liveGroupMembers,
  modeOf,
  type RunResult,
  rds,
  rdsExpect,
  releaseVersion,
  sleep,
  stageLeftovers,
  startRds,
  tempDir,
  waitFor,
  wrapForAgent,
  writeScript,
} from '../support/cli.js';
import { seededRandom, seedLabel, testSeed } from '../support/seed.js';

const EXIT = { OK: 0, FAILED: 1, USAGE: 2, TRANSIENT: 3, SECURITY: 4 } as const;
// apply-update's two success lines, anchored: "installed" must not also match "already installed"
const INSTALLED = (version: string) => new RegExp(`^installed ${version.replaceAll('.', '\\.')} \\(was `);
const ALREADY_INSTALLED = /^package \S+ is already installed; nothing to do/;

let root: string;
let host: HostNode;
let agentCount = 0;
let fileCount = 0;

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('rds-cli-foundation-');
  host = await initHost(root);
  fs.mkdirSync(path.join(root, 'build', 'bbb'), { recursive: true });
  fs.writeFileSync(path.join(root, 'build', 'abcd.exe'), Buffer.alloc(64 * 1024, 0xab));
  fs.writeFileSync(path.join(root, 'build', 'bbb', 'bbb.lib'), 'library 1.3.05\n');
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const opts = () => ({ cwd: root });
const unique = (name: string) => path.join(root, `${++fileCount}-${name}`);
const newAgent = (options: { softwareVersion?: string; romVersion?: string; register?: boolean } = {}) =>
  initAgent(root, host, { id: `AGENT${String(++agentCount).padStart(7, '0')}`, ...options });

/** A script that records each run in `marker` (a file outside the stage) and installs the modules. */
function installScript(marker: string, extra = ''): string {
  return writeScript(
    unique('install.sh'),
    `echo "ran $RDS_TARGET_VERSION" >> '${marker}'\n${extra}\ncp -R "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"`,
  );
}

interface PackOptions {
  version: string;
  script: string;
  modules?: string[];
  timeout?: string;
  allowDowngrade?: boolean;
  json?: boolean;
}

async function pack(o: PackOptions): Promise<{ file: string; result: RunResult }> {
  const file = unique(`update-${o.version}.rdsu`);
  const modules = o.modules ?? [
    `abcd.exe=1.0.01:${path.join(root, 'build', 'abcd.exe')}`,
    `bbb.lib=1.3.05:${path.join(root, 'build', 'bbb')}`,
  ];
  const result = await rdsExpect(
    0,
    [
      ...(o.json ? ['--json'] : []),
      '--config',
      host.config,
      'pack-update',
      '--software-version',
      o.version,
      '--script',
      o.script,
      ...modules.flatMap((m) => ['--module', m]),
      ...(o.timeout ? ['--timeout', o.timeout] : []),
      ...(o.allowDowngrade ? ['--allow-downgrade'] : []),
      '-o',
      file,
    ],
    opts(),
  );
  return { file, result };
}

/** pack-update at the host, then wrap the package for `agent` (what push-all does). */
async function packFor(agent: AgentNode, o: PackOptions): Promise<string> {
  const { file } = await pack(o);
  return wrapForAgent(host, file, agent.publicKeyFile);
}

const apply = (agent: AgentNode, file: string, env?: Record<string, string>) =>
  rds(['--config', agent.config, 'apply-update', file], { ...opts(), ...(env ? { env } : {}) });

async function versionOf(agent: AgentNode): Promise<string> {
  const r = await rdsExpect(0, ['--config', agent.config, '--json', 'versions'], opts());
  return (JSON.parse(r.stdout) as { softwareVersion: string }).softwareVersion;
}

/** The state is whole: `current` points at a release of the version `rds versions` reports, no stage is left. */
async function expectConsistent(agent: AgentNode): Promise<string> {
  const version = await versionOf(agent);
  expect(releaseVersion(currentRelease(agent))).toBe(version);
  expect(fs.existsSync(path.join(agent.installRoot, 'current'))).toBe(true); // the link resolves
  expect(stageLeftovers(agent)).toEqual([]);
  return version;
}

function releases(agent: AgentNode): string[] {
  return fs.readdirSync(path.join(agent.installRoot, 'releases')).sort();
}

describe('setup, pack-update, apply-update, versions', () => {
  it('installs a package and `rds versions` reports the new Software Version and modules', async () => {
    const agent = await newAgent({ softwareVersion: '1.0.00-1', romVersion: '1.5.08' });
    const before = await rdsExpect(0, ['--config', agent.config, 'versions'], opts());
    expect(before.stdout).toBe('Software Version\t1.0.00-1\nROM Version\t1.5.08\n---Modules---\n');

    const marker = unique('marker');
    const envFile = unique('env');
    const script = installScript(marker, `env | grep '^RDS_' | sort > '${envFile}'`);
    const { file, result } = await pack({ version: '1.0.02-0', script, json: true });
    const packed = JSON.parse(result.stdout) as { file: string; packageId: string; softwareVersion: string; modules: unknown[] };
    expect(packed).toMatchObject({ file, softwareVersion: '1.0.02-0' });
    expect(packed.modules).toHaveLength(2);
    const forAgent = await wrapForAgent(host, file, agent.publicKeyFile);

    const applied = await rdsExpect(0, ['--json', '--config', agent.config, 'apply-update', forAgent], opts());
    expect(JSON.parse(applied.stdout)).toMatchObject({
      outcome: 'installed',
      packageId: packed.packageId,
      version: '1.0.02-0',
      previousVersion: '1.0.00-1',
    });

    const text = await rdsExpect(0, ['--config', agent.config, 'versions'], opts());
    const lines = text.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual(['Software Version\t1.0.02-0', 'ROM Version\t1.5.08', '---Modules---']);
    expect(lines[3]).toMatch(/^abcd\.exe\t1\.0\.01\t\d{4}\/\d{2}\/\d{2}$/);
    expect(lines[4]).toMatch(/^bbb\.lib\t1\.3\.05\t\d{4}\/\d{2}\/\d{2}$/);
    expect(parseVersionText(text.stdout).modules.map((m) => m.name)).toEqual(['abcd.exe', 'bbb.lib']);

    // global flags after the command name, and --json
    const json = await rdsExpect(0, ['versions', '--json', '--config', agent.config], opts());
    expect(JSON.parse(json.stdout)).toEqual({
      softwareVersion: '1.0.02-0',
      romVersion: '1.5.08',
      modules: [
        { name: 'abcd.exe', version: '1.0.01', date: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}$/) },
        { name: 'bbb.lib', version: '1.3.05', date: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}$/) },
      ],
    });
    // $RDS_CONFIG instead of --config
    const viaEnv = await rdsExpect(0, ['versions'], { cwd: root, env: { RDS_CONFIG: agent.config } });
    expect(viaEnv.stdout).toBe(text.stdout);

    // the new release is current and holds what the script copied
    expect(currentRelease(agent)).toMatch(/^1\.0\.02-0_[0-9a-f]{8}$/);
    const current = path.join(agent.installRoot, 'current');
    expect(fs.readFileSync(path.join(current, 'abcd.exe'))).toEqual(fs.readFileSync(path.join(root, 'build', 'abcd.exe')));
    expect(fs.readFileSync(path.join(current, 'bbb.lib', 'bbb.lib'), 'utf8')).toBe('library 1.3.05\n');
    expect(linesOf(marker)).toEqual(['ran 1.0.02-0']);
    expect(stageLeftovers(agent)).toEqual([]);

    // the script saw the docs/install.md#the-install-script environment, and no secret of the agent
    const env = Object.fromEntries(linesOf(envFile).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env).toMatchObject({
      RDS_INSTALL_ROOT: agent.installRoot,
      RDS_RELEASE_DIR: path.join(agent.installRoot, 'releases', currentRelease(agent)),
      RDS_TARGET_VERSION: '1.0.02-0',
      RDS_PREVIOUS_VERSION: '1.0.00-1',
    });
    expect(env.RDS_PAYLOAD_DIR).toMatch(new RegExp(`^${agent.stateDir}/stage/`));
    expect(Object.keys(env).filter((k) => /PASS|KEY|CONFIG/.test(k))).toEqual([]);
  });

  it('--json variants of init, keys export, agents add/list parse', async () => {
    const dir = unique('json-agent');
    const mail = `maildir://${path.join(root, 'mail')}`;
    const init = await rdsExpect(
      0,
      [
        '--json',
        'init',
        '--role',
        'agent',
        '--id',
        'AGENTJSON001',
        '--address',
        'json@example.com',
        '--host-address',
        'host@example.com',
        '--host-key',
        host.publicKeyFile,
        '--smtp',
        mail,
        '--imap',
        mail,
        '--dir',
        dir,
      ],
      opts(),
    );
    expect(JSON.parse(init.stdout)).toMatchObject({ role: 'agent', id: 'AGENTJSON001', config: path.join(dir, 'config.json') });
    const keys = await rdsExpect(0, ['--json', '--config', path.join(dir, 'config.json'), 'keys', 'export'], opts());
    const exported = JSON.parse(keys.stdout) as { id: string; fingerprint: string; publicKey: string };
    expect(exported.id).toBe('AGENTJSON001');
    expect(exported.publicKey).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const keyFile = unique('json.asc');
    fs.writeFileSync(keyFile, exported.publicKey);
    const added = await rdsExpect(
      0,
      [
        '--json',
        '--config',
        host.config,
        'agents',
        'add',
        '--id',
        'AGENTJSON001',
        '--address',
        'json@example.com',
        '--key',
        keyFile,
        '--note',
        'jjj Ltd',
      ],
      opts(),
    );
    expect(JSON.parse(added.stdout)).toMatchObject({ id: 'AGENTJSON001', address: 'json@example.com', note: 'jjj Ltd' });
    const list = await rdsExpect(0, ['--json', '--config', host.config, 'agents', 'list'], opts());
    const agents = (JSON.parse(list.stdout) as { agents: { id: string }[] }).agents;
    expect(agents.map((a) => a.id)).toContain('AGENTJSON001');
  });
});

describe('refused packages (exit 4): nothing from them runs', () => {
  let agent: AgentNode;
  let other: AgentNode;
  beforeAll(async () => {
    agent = await newAgent({ softwareVersion: '1.0.00-1' });
    other = await newAgent({ softwareVersion: '1.0.00-1' });
  }, 60_000);

  /** Refused with exactly `code` (from `--json`) and `reason` in the one-line message on stderr. */
  async function expectRefused(file: string, marker: string, code: string, reason: RegExp): Promise<void> {
    const beforeCurrent = currentRelease(agent);
    const r = await rds(['--json', '--config', agent.config, 'apply-update', file], opts());
    expect(r.code, r.stderr).toBe(EXIT.SECURITY);
    expect((JSON.parse(r.stdout) as { error: { code: string } }).error.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).not.toMatch(/this is a bug/);
    expect(fs.existsSync(marker)).toBe(false);
    expect(currentRelease(agent)).toBe(beforeCurrent);
    expect(await expectConsistent(agent)).toBe('1.0.00-1');
  }

  it('a package with one byte flipped', async () => {
    const marker = unique('marker');
    const file = await packFor(agent, { version: '1.0.02-0', script: installScript(marker) });
    const bytes = fs.readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] as number) ^ 0x01;
    fs.writeFileSync(file, bytes);
    await expectRefused(file, marker, 'PACKAGE_TAMPERED', /package does not decrypt intact/);
  });

  it('a package wrapped for another agent', async () => {
    const marker = unique('marker');
    const file = await packFor(other, { version: '1.0.02-0', script: installScript(marker) });
    await expectRefused(file, marker, 'PACKAGE_NOT_FOR_ME', /not encrypted for this node's key [0-9A-F]{40}/);
  });

  it('a package signed by another host', async () => {
    const otherRoot = tempDir('rds-cli-otherhost-');
    try {
      const rogue = await initHost(otherRoot, 'ROGUE');
      const marker = unique('marker');
      const file = unique('rogue.rdsu');
      await rdsExpect(
        0,
        ['--config', rogue.config, 'pack-update', '--software-version', '1.0.02-0', '--script', installScript(marker), '-o', file],
        opts(),
      );
      const forAgent = await wrapForAgent(rogue, file, agent.publicKeyFile);
      await expectRefused(forAgent, marker, 'UNKNOWN_KEY', /not signed by the host key/);
    } finally {
      fs.rmSync(otherRoot, { recursive: true, force: true });
    }
  });

  it('a downgrade (1.0.00-0 while 1.0.00-1 runs) without signed permission', async () => {
    const marker = unique('marker');
    const file = await packFor(agent, { version: '1.0.00-0', script: installScript(marker) });
    await expectRefused(file, marker, 'DOWNGRADE_REFUSED', /lower than the running 1\.0\.00-1/);
  });

  it('the same downgrade with --allow-downgrade installs', async () => {
    // an agent of its own: the refusals above expect theirs to stay on 1.0.00-1
    const own = await newAgent({ softwareVersion: '1.0.00-1' });
    const marker = unique('marker');
    const file = await packFor(own, { version: '1.0.00-0', script: installScript(marker), allowDowngrade: true });
    const r = await apply(own, file);
    expect(r.code, r.stderr).toBe(EXIT.OK);
    expect(linesOf(marker)).toEqual(['ran 1.0.00-0']);
    expect(await expectConsistent(own)).toBe('1.0.00-0');
  });
});

describe('failing install scripts roll back (exit 1)', () => {
  it('a script exiting 3: exit 1, the log tail on stderr, version and `current` unchanged', async () => {
    const agent = await newAgent({ softwareVersion: '1.0.00-1' });
    const before = { current: currentRelease(agent), releases: releases(agent) };
    const marker = unique('marker');
    const script = writeScript(
      unique('fail.sh'),
      `echo "ran $RDS_TARGET_VERSION" >> '${marker}'\necho "stopping agent_sweeprr"\necho "boom: disk full" >&2\nexit 3`,
    );
    const file = await packFor(agent, { version: '1.0.02-0', script });
    const r = await apply(agent, file);
    expect(r.code, r.stderr).toBe(EXIT.FAILED);
    expect(r.stderr).toContain('exited with status 3');
    expect(r.stderr).toContain('stopping agent_sweeprr');
    expect(r.stderr).toContain('boom: disk full');
    expect(r.stderr).not.toMatch(/this is a bug/);
    expect(linesOf(marker)).toEqual(['ran 1.0.02-0']);
    expect(currentRelease(agent)).toBe(before.current);
    expect(releases(agent)).toEqual(before.releases);
    expect(await expectConsistent(agent)).toBe('1.0.00-1');
  });

  it('a script sleeping past --timeout 2s: exit 1, rolled back, its whole process group gone', async () => {
    const agent = await newAgent({ softwareVersion: '1.0.00-1' });
    const before = { current: currentRelease(agent), releases: releases(agent) };
    const pgidFile = unique('pgid');
    // a child that ignores SIGTERM stays in the group after the shell itself died
    const script = writeScript(
      unique('slow.sh'),
      `echo $$ > '${pgidFile}'\n( trap '' TERM; while :; do sleep 1; done ) &\necho sleeping\nsleep 60`,
    );
    const file = await packFor(agent, { version: '1.0.02-0', script, timeout: '2s' });
    const r = await apply(agent, file);
    expect(r.code, r.stderr).toBe(EXIT.FAILED);
    expect(r.stderr).toMatch(/timed out after 2s/);
    expect(r.stderr).toContain('sleeping');
    const pgid = Number(fs.readFileSync(pgidFile, 'utf8').trim());
    expect(pgid).toBeGreaterThan(1);
    await waitFor('the script group to be gone', () => liveGroupMembers(pgid).length === 0, 3000);
    expect(currentRelease(agent)).toBe(before.current);
    expect(releases(agent)).toEqual(before.releases);
    expect(await expectConsistent(agent)).toBe('1.0.00-1');
  });
});

describe('idempotence', () => {
  it('the same package twice: the script runs once, the second run says "already installed" (exit 0)', async () => {
    const agent = await newAgent({ softwareVersion: '1.0.00-1' });
    const marker = unique('marker');
    const file = await packFor(agent, { version: '1.0.02-0', script: installScript(marker) });
    const first = await apply(agent, file);
    expect(first.code, first.stderr).toBe(EXIT.OK);
    expect(first.stdout).toMatch(/^installed 1\.0\.02-0/);
    const second = await apply(agent, file);
    expect(second.code, second.stderr).toBe(EXIT.OK);
    expect(second.stdout).toMatch(ALREADY_INSTALLED);
    expect(linesOf(marker)).toHaveLength(1);
    expect(await expectConsistent(agent)).toBe('1.0.02-0');
  });
});

describe('kill -9 during apply-update', () => {
  const CRASH_STEPS = [
    { step: 'preparing', after: '1.0.00-1', scriptRan: false },
    { step: 'running-script', after: '1.0.00-1', scriptRan: false },
    { step: 'switching', after: '1.0.00-1', scriptRan: true },
    { step: 'switched', after: '1.0.02-0', scriptRan: true },
  ] as const;

  for (const { step, after, scriptRan } of CRASH_STEPS) {
    // only a crash after 'switched' leaves the package installed (recovery finishes it)
    const installedByRecovery = step === 'switched';
    for (const recovery of ['versions', 'apply-update'] as const) {
      it(`crash right after journaling '${step}', recovered by \`rds ${recovery}\``, async () => {
        const agent = await newAgent({ softwareVersion: '1.0.00-1' });
        const marker = unique('marker');
        const file = await packFor(agent, { version: '1.0.02-0', script: installScript(marker) });
        const crashed = await apply(agent, file, { RDS_FAULT_CRASH_AFTER: step });
        expect(crashed.signal, `${crashed.code}\n${crashed.stderr}`).toBe('SIGKILL');
        expect(linesOf(marker).length > 0).toBe(scriptRan);

        if (recovery === 'versions') {
          // the recovery run ends in exactly the old or the new version
          expect(await expectConsistent(agent)).toBe(after);
        }
        const again = await apply(agent, file);
        expect(again.code, again.stderr).toBe(EXIT.OK);
        expect(again.stdout).toMatch(installedByRecovery ? ALREADY_INSTALLED : INSTALLED('1.0.02-0'));
        expect(await expectConsistent(agent)).toBe('1.0.02-0');
        const third = await apply(agent, file);
        expect(third.code, third.stderr).toBe(EXIT.OK);
        expect(third.stdout).toMatch(ALREADY_INSTALLED);
      });
    }
  }

  const seed = testSeed();
  it(`kill -9 from outside at random points during a slow script (${seedLabel(seed)})`, async () => {
    const agent = await newAgent({ softwareVersion: '1.0.00-1' });
    const random = seededRandom(seed);
    const delays = [random() * 600, 1 + random() * 2500, 1 + random() * 2500, 2000 + random() * 1500];
    let running = '1.0.00-1';
    for (const [i, delay] of delays.entries()) {
      const target = `1.0.${String(i + 3).padStart(2, '0')}-0`;
      const marker = unique('marker');
      const pgidFile = unique('pgid');
      const script = installScript(marker, `echo $$ > '${pgidFile}'\nsleep 3`);
      const file = await packFor(agent, { version: target, script });
      const run = startRds(['--config', agent.config, 'apply-update', file], opts());
      // the first kill lands before the script (start-up, decrypt, unpack); the others while it runs
      if (i > 0) await waitFor('the script to start', () => fs.existsSync(pgidFile), 30_000, 10);
      await sleep(delay);
      run.child.kill('SIGKILL');
      const result = await run.done;
      const where = `${seedLabel(seed)}: iteration ${i}, kill after ${Math.round(delay)} ms${i > 0 ? ' of the script' : ''}`;
      if (result.signal !== 'SIGKILL') expect(result.code, `${where}\n${result.stderr}`).toBe(EXIT.OK);

      // where the kill landed decides which version is current: before the switch the one
      // running before, after it the target (the rerun below must then say which it was)
      const version = await expectConsistent(agent);
      if (result.signal !== 'SIGKILL')
        expect(version, where).toBe(target); // not killed: it finished
      else if (version !== target) expect(version, where).toBe(running);
      if (fs.existsSync(pgidFile)) {
        const pgid = Number(fs.readFileSync(pgidFile, 'utf8').trim());
        await waitFor(`${where}: the orphaned script group to be gone`, () => liveGroupMembers(pgid).length === 0, 3000);
      }
      const again = await apply(agent, file);
      expect(again.code, `${where}\n${again.stderr}`).toBe(EXIT.OK);
      // killed after the switch (or not killed at all): the package is in, the rerun says so
      expect(again.stdout, where).toMatch(version === target ? ALREADY_INSTALLED : INSTALLED(target));
      running = await expectConsistent(agent);
      expect(running, where).toBe(target);
    }
  }, 300_000);
});

describe('usage and config errors (exit 2)', () => {
  let agent: AgentNode;
  beforeAll(async () => {
    agent = await newAgent();
  }, 60_000);

  const oneLine = (r: RunResult) => {
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(r.stderr).not.toMatch(/this is a bug|\n\s+at /);
    return lines[0] as string;
  };

  it('a host command with an agent config', async () => {
    const script = writeScript(unique('noop.sh'), 'true');
    const r = await rds(['--config', agent.config, 'pack-update', '--software-version', '1.0.09-0', '--script', script], opts());
    expect(r.code).toBe(EXIT.USAGE);
    expect(oneLine(r)).toMatch(/'rds pack-update' is a host command.*agent/);
    expect(r.stdout).toBe('');
  });

  it('an agent command with a host config', async () => {
    const r = await rds(['--config', host.config, 'versions'], opts());
    expect(r.code).toBe(EXIT.USAGE);
    expect(oneLine(r)).toMatch(/agent command.*host/);
  });

  it('a missing config (--config, and the default location)', async () => {
    const missing = path.join(root, 'nowhere', 'config.json');
    const r = await rds(['--config', missing, 'versions'], opts());
    expect(r.code).toBe(EXIT.USAGE);
    expect(oneLine(r)).toContain(missing);
    const home = unique('home');
    fs.mkdirSync(home);
    const d = await rds(['versions'], { cwd: root, env: { HOME: home, XDG_CONFIG_HOME: undefined } });
    expect(d.code).toBe(EXIT.USAGE);
    expect(oneLine(d)).toContain(home);
  });

  it('a malformed config names the file', async () => {
    const bad = unique('bad-config.json');
    fs.writeFileSync(bad, '{"role": "agent", "id": ');
    const r = await rds(['--config', bad, 'versions'], opts());
    expect(r.code).toBe(EXIT.USAGE);
    expect(oneLine(r)).toContain(bad);
    const j = await rds(['--json', '--config', bad, 'versions'], opts());
    expect(j.code).toBe(EXIT.USAGE);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: 'CONFIG_INVALID' } });
  });

  it('a package file that does not exist', async () => {
    const r = await apply(agent, path.join(root, 'no-such.rdsu'));
    expect(r.code).toBe(EXIT.USAGE);
    expect(oneLine(r)).toContain('no-such.rdsu');
  });

  it('unknown commands and missing arguments', async () => {
    expect((await rds(['no-such-command'], opts())).code).toBe(EXIT.USAGE);
    expect((await rds(['--config', agent.config, 'apply-update'], opts())).code).toBe(EXIT.USAGE);
    expect((await rds(['--config', host.config, 'pack-update', '--script', 'x.sh'], opts())).code).toBe(EXIT.USAGE);
  });
});

describe('file modes', () => {
  it('private key and config 0600, state dir 0700, even under umask 000', async () => {
    const dir = unique('umask');
    fs.mkdirSync(dir);
    const mail = `maildir://${path.join(dir, 'mail')}`;
    const init = (args: string[]) =>
      spawnSync('/bin/sh', ['-c', 'umask 000 && exec "$@"', 'sh', process.execPath, BIN, ...args], { cwd: dir, encoding: 'utf8' });
    const h = init([
      'init',
      '--role',
      'host',
      '--id',
      'HOSTM',
      '--address',
      'h@example.com',
      '--smtp',
      mail,
      '--imap',
      mail,
      '--dir',
      path.join(dir, 'h'),
    ]);
    expect(h.status, h.stderr).toBe(0);
    const a = init([
      'init',
      '--role',
      'agent',
      '--id',
      'AGENTM',
      '--address',
      'a@example.com',
      '--host-address',
      'h@example.com',
      '--host-key',
      host.publicKeyFile,
      '--smtp',
      mail,
      '--imap',
      mail,
      '--dir',
      path.join(dir, 'a'),
    ]);
    expect(a.status, a.stderr).toBe(0);
    for (const node of ['h', 'a']) {
      const base = path.join(dir, node);
      expect(modeOf(path.join(base, 'config.json')).toString(8), `${node} config`).toBe('600');
      expect(modeOf(path.join(base, 'keys', 'private.asc')).toString(8), `${node} key`).toBe('600');
      expect(modeOf(path.join(base, 'keys')).toString(8), `${node} keys dir`).toBe('700');
      expect(modeOf(path.join(base, 'state')).toString(8), `${node} state dir`).toBe('700');
      expect(modeOf(path.join(base, 'state', 'state.db')).toString(8), `${node} state db`).toBe('600');
    }
  });
});
