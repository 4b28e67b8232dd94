// A host and a fleet of agents made with the real binary, on any mail backend: real
// Postfix + Dovecot (URLs from the testbed) or the embedded maildir:// backend.
import fs from 'node:fs';
import path from 'node:path';
import { rdsExpect, storeArgs } from './cli.js';

export interface MailUrls {
  smtp: string;
  imap: string;
  tlsCa?: string;
}

export interface FleetNode {
  id: string;
  address: string;
  dir: string;
  config: string;
  publicKeyFile: string;
}

export interface Fleet {
  root: string;
  host: FleetNode;
  agents: FleetNode[];
  run(node: FleetNode, expected: number, ...args: string[]): ReturnType<typeof rdsExpect>;
}

export async function makeFleet(
  root: string,
  options: {
    hostAddress: string;
    agentAddresses: string[];
    urlsFor: (address: string) => MailUrls;
    softwareVersion?: string;
  },
): Promise<Fleet> {
  const init = async (role: 'host' | 'agent', id: string, address: string, hostKey?: string): Promise<FleetNode> => {
    const dir = path.join(root, id);
    const urls = options.urlsFor(address);
    await rdsExpect(
      0,
      [
        'init',
        '--role',
        role,
        '--id',
        id,
        '--address',
        address,
        '--smtp',
        urls.smtp,
        '--imap',
        urls.imap,
        '--dir',
        dir,
        ...(urls.tlsCa ? ['--tls-ca', urls.tlsCa] : []),
        ...(role === 'agent'
          ? [
              '--host-address',
              options.hostAddress,
              '--host-key',
              path.join(root, 'HOST.asc'),
              '--software-version',
              options.softwareVersion ?? '1.0.00-1',
            ]
          : []),
        ...(hostKey ? [] : []),
        ...(role === 'host' ? await storeArgs(root) : []),
      ],
      { cwd: root },
    );
    const config = path.join(dir, 'config.json');
    const exported = await rdsExpect(0, ['--config', config, 'keys', 'export'], { cwd: root });
    const publicKeyFile = path.join(root, `${id}.asc`);
    fs.writeFileSync(publicKeyFile, exported.stdout);
    return { id, address, dir, config, publicKeyFile };
  };
  const host = await init('host', 'HOST', options.hostAddress);
  const agents: FleetNode[] = [];
  for (const [i, address] of options.agentAddresses.entries()) {
    const id = `AGENT${String(i + 1).padStart(7, '0')}`;
    const agent = await init('agent', id, address);
    await rdsExpect(
      0,
      [
        '--config',
        host.config,
        'agents',
        'add',
        '--id',
        id,
        '--address',
        address,
        '--key',
        agent.publicKeyFile,
        '--note',
        `customer ${i + 1}`,
      ],
      {
        cwd: root,
      },
    );
    agents.push(agent);
  }
  return {
    root,
    host,
    agents,
    run: (node, expected, ...args) => rdsExpect(expected, ['--config', node.config, ...args], { cwd: root }),
  };
}

/** An install script that fails on agents whose install root holds a `fail-install` file, and counts runs. */
export function writeInstallScript(root: string): string {
  const file = path.join(root, 'install.sh');
  fs.writeFileSync(
    file,
    [
      '#!/bin/sh',
      'set -e',
      'echo "run $RDS_TARGET_VERSION" >> "$RDS_INSTALL_ROOT/../install-runs.log"',
      'if [ -e "$RDS_INSTALL_ROOT/fail-install" ]; then echo "disk check failed on purpose" >&2; exit 3; fi',
      'cp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return file;
}

export function installRuns(agent: FleetNode): number {
  const file = path.join(agent.dir, 'install-runs.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}
