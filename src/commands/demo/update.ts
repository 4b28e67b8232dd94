/** Act four: update TARGET is packed once and pushed in waves: the canary first, then the rest. */
import fs from 'node:fs';
import path from 'node:path';
import { optionsWithDefaults } from '../specs/define.js';
import { cmd, commands } from './commands.js';
import { at, type Fleet, human, TARGET } from './context.js';

const INSTALL_SCRIPT =
  '#!/bin/sh\nset -e\nif [ -e "$RDS_INSTALL_ROOT/simulate-disk-full" ]; then echo "cp: error writing main.cgi: No space left on device" >&2; exit 1; fi\ncp -r "$RDS_PAYLOAD_DIR/modules/." "$RDS_RELEASE_DIR/"\necho "installed $RDS_TARGET_VERSION"\n';

/** The rollout's plan: the first agent is the canary, half the fleet by the end of wave 2; one failure and one silent agent allowed. */
export const PLAN = { waves: '1,50%,100%', maxFailures: '1', maxTimeouts: '1', timeout: '2h' };
const PLAN_FLAGS = `--waves ${PLAN.waves} --max-failures ${PLAN.maxFailures} --max-timeouts ${PLAN.maxTimeouts} --timeout ${PLAN.timeout}`;

/** Pack the update; returns the package file. */
async function pack(fleet: Fleet, step: (line: string) => void): Promise<string> {
  const root = fleet.input.root;
  const script = path.join(root, 'install.sh');
  fs.writeFileSync(script, INSTALL_SCRIPT, { mode: 0o755 });
  const moduleFile = path.join(root, 'main.cgi');
  fs.writeFileSync(moduleFile, '#!/bin/sh\necho "main.cgi 1.0.02"\n');
  const pkg = path.join(root, `update-${TARGET}.rdsu`);
  step(
    fleet.shell(
      fleet.host,
      `pack-update --software-version ${TARGET} --script install.sh --module main.cgi=1.0.02:main.cgi -o update-${TARGET}.rdsu`,
    ),
  );
  const packed = await cmd(commands.packUpdate, fleet.host, {
    softwareVersion: TARGET,
    script,
    module: [`main.cgi=1.0.02:${moduleFile}`],
    timeout: '1m',
    output: pkg,
  });
  step(String(packed.text).split('\n')[0] as string);
  return pkg;
}

/** Pack, push wave 1 (the canary), and set up the two agents the story is about; returns the step's printer. */
export async function update(fleet: Fleet): Promise<(line: string) => void> {
  const { host, failing, offline, shell } = fleet;
  const step = fleet.input.say(`Update ${TARGET} is packed once and rolled out in waves: a canary, then half the fleet, then the rest`);
  const pkg = await pack(fleet, step);
  step(shell(host, `push-all update-${TARGET}.rdsu ${PLAN_FLAGS}`));
  const pushAll = await commands.pushAll.load();
  const pushed = await pushAll(optionsWithDefaults(commands.pushAll.spec, { args: [pkg], ...PLAN }), {
    config: host.config,
    quiet: !process.stderr.isTTY,
  });
  step(human(pushed.text).split('\n')[0] as string);
  fs.writeFileSync(path.join(at(fleet, failing).dir, 'install', 'simulate-disk-full'), '');
  step(`${at(fleet, failing).id}'s disk is full: its install script will fail`);
  step(`${at(fleet, offline).id} is offline: it will never read its mail`);
  return step;
}
