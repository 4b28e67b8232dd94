/**
 * Test support for install/ (left out of the build, as every src/**\/testing.ts): an agent's
 * state dir and store in a fresh temp folder, and, for the install tests, an install root
 * running 1.0.00-1 with its one module main.cgi.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Db, openDb } from '../store/db.js';
import { writeInstalled } from './installed.js';
import { type InstallLayout, initInstallRoot, installLayout } from './layout.js';

export interface AgentState {
  dir: string;
  stateDir: string;
  db: Db;
}

/** A temp folder PREFIX… holding `state/` (0700) and its store. */
export function agentState(prefix: string): AgentState {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const stateDir = path.join(dir, 'state');
  fs.mkdirSync(stateDir, { mode: 0o700 });
  return { dir, stateDir, db: openDb(stateDir) };
}

/** agentState plus `root/`: release 1.0.00-1 current, holding main.cgi ("old main"), recorded as installed. */
export function installedAgent(prefix: string): AgentState & { layout: InstallLayout; release: string } {
  const state = agentState(prefix);
  const layout = installLayout(path.join(state.dir, 'root'));
  const release = initInstallRoot(layout.root, '1.0.00-1');
  fs.writeFileSync(path.join(release, 'main.cgi'), 'old main');
  writeInstalled(state.db, { softwareVersion: '1.0.00-1', release, updatedAt: '2026-11-01T00:00:00.000Z' }, [
    { name: 'main.cgi', version: '1.0.00', date: '2026/11/01' },
  ]);
  return { ...state, layout, release };
}

/** The store closed and the temp folder gone. */
export function removeAgentState(state: AgentState): void {
  state.db.close();
  fs.rmSync(state.dir, { recursive: true, force: true });
}
