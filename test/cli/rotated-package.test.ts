// A package packed before `rds keys rotate` is the host operator's mistake, not an attack:
// push-all refuses it with one line naming the current key's 40-hex fingerprint and the
// fix (exit 2), and sends nothing. A file that is no package at all is the same (exit 2).
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, type HostNode, initAgent, initHost, rds, rdsExpect, tempDir } from '../support/cli.js';
import { writeInstallScript } from '../support/fleet.js';

let root: string;
let host: HostNode;
let pkg: string;

beforeAll(async () => {
  ensureBuilt();
  root = tempDir('i10x-rotated-');
  host = await initHost(root);
  await initAgent(root, host, { id: 'AGENT0000001' });
  fs.writeFileSync(path.join(root, 'main.cgi'), 'main\n');
  pkg = path.join(root, 'old.rdsu');
  const pack = ['pack-update', '--software-version', '1.0.02-0', '--script', writeInstallScript(root), '-o', pkg];
  await rdsExpect(0, ['--config', host.config, ...pack, '--module', `main.cgi=1.0.02:${path.join(root, 'main.cgi')}`], { cwd: root });
  await rdsExpect(0, ['--config', host.config, 'keys', 'rotate'], { cwd: root });
}, 120_000);

describe('push-all of a package made for another key', () => {
  it('exit 2, one line naming the current fingerprint and rds pack-update; nothing queued', async () => {
    const shown = JSON.parse((await rdsExpect(0, ['--config', host.config, '--json', 'keys', 'show'], { cwd: root })).stdout);
    const r = await rds(['--config', host.config, 'push-all', pkg], { cwd: root });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `rds: ${pkg} was not packed with this host's key ${shown.fingerprint} (made before rds keys rotate?): pack it again with rds pack-update`,
    );
    expect(shown.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    const outbox = JSON.parse((await rdsExpect(0, ['--config', host.config, '--json', 'outbox', 'list'], { cwd: root })).stdout);
    expect(outbox.items.filter((i: { kind: string }) => i.kind === 'update')).toEqual([]);
  });
});
