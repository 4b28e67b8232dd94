// `rds init --role agent --host-key FILE` (issue 10 part 3): prints the pinned host key's
// fingerprint to compare out of band, warns when FILE is obviously not the host's public
// key (a private key, this agent's own key), and refuses what is no OpenPGP key at all
// with one line and exit 2, writing nothing.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, type HostNode, initHost, rdsExpect, tempDir } from '../support/cli.js';

let root: string;
let host: HostNode;
let hostFp: string;
let n = 0;

const initAgent = (expected: number, hostKey: string, over: { id?: string; address?: string; json?: boolean } = {}) => {
  const dir = path.join(root, `agent-${++n}`);
  const mail = `maildir://${path.join(root, 'mail')}`;
  const args = [
    ...(over.json ? ['--json'] : []),
    'init',
    '--role',
    'agent',
    '--id',
    over.id ?? `AGENT000000${n}`,
    '--address',
    over.address ?? `agent${n}@example.com`,
    '--host-address',
    'host@example.com',
    '--host-key',
    hostKey,
    '--smtp',
    mail,
    '--imap',
    mail,
    '--dir',
    dir,
  ];
  return rdsExpect(expected, args, { cwd: root }).then((r) => ({ ...r, dir }));
};

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('i10s-init-');
  host = await initHost(root);
  hostFp = JSON.parse((await rdsExpect(0, ['--config', host.config, '--json', 'keys', 'show'], { cwd: root })).stdout).fingerprint;
}, 120_000);

describe('rds init --role agent --host-key', () => {
  it("prints the pinned host key's fingerprint (40 hex, as keys show gives it); --json too; no warning", async () => {
    const r = await initAgent(0, host.publicKeyFile);
    expect(hostFp).toMatch(/^[0-9A-F]{40}$/);
    expect(r.stdout).toContain(`  host key    ${hostFp} (pinned: compare it out of band with \`rds keys show\` on the host)`);
    expect(r.stderr).toBe('');
    const j = await initAgent(0, host.publicKeyFile, { json: true });
    expect(JSON.parse(j.stdout)).toMatchObject({ role: 'agent', hostKeyFingerprint: hostFp });
  });

  it("the host's private key: a warn: line, and only its public part is pinned", async () => {
    const r = await initAgent(0, host.keyFile);
    expect(r.stderr).toMatch(/^(\S+ )?warn: --host-key is a private key: pinning only its public part/m);
    expect(r.stdout).toContain(`host key    ${hostFp}`);
    const pinned = fs.readFileSync(path.join(r.dir, 'keys', 'host.asc'), 'utf8');
    expect(pinned).toContain('BEGIN PGP PUBLIC KEY BLOCK');
    expect(pinned).not.toContain('PRIVATE');
  });

  it("this agent's own key (same id and address, from an earlier init): a warn: line", async () => {
    const first = await initAgent(0, host.publicKeyFile, { id: 'AGENT0000042', address: 'agent42@example.com' });
    const r = await initAgent(0, path.join(first.dir, 'keys', 'public.asc'), { id: 'AGENT0000042', address: 'agent42@example.com' });
    expect(r.stderr).toMatch(/warn: --host-key names this agent's own id or address/);
  });

  it('a file that is no OpenPGP key (an install script): one line, exit 2, nothing written', async () => {
    const script = path.join(root, 'install.sh');
    fs.writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o700 });
    const r = await initAgent(2, script);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `rds: --host-key ${script} is not an armored OpenPGP public key; give the file \`rds keys export\` wrote on the host`,
    ]);
    expect(fs.existsSync(r.dir)).toBe(false);
  });

  it('a missing file: one line naming it, exit 2', async () => {
    const missing = path.join(root, 'nosuch.asc');
    const r = await initAgent(2, missing);
    expect(r.stderr.trim().split('\n')).toEqual([`rds: --host-key: cannot read ${missing}: ENOENT`]);
    expect(fs.existsSync(r.dir)).toBe(false);
  });
});
