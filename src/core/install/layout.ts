/**
 * The agent's install root (docs/install.md#the-install-root):
 *   releases/<name>/   one folder per installed version
 *   current            symlink to releases/<name>, switched by rename (atomic on POSIX)
 */
import fs from 'node:fs';
import path from 'node:path';
import { mkdirNoFollow } from '../fs/trust.js';

export interface InstallLayout {
  root: string;
  releases: string;
  current: string;
}

export function installLayout(root: string): InstallLayout {
  return { root, releases: path.join(root, 'releases'), current: path.join(root, 'current') };
}

/** The release folder `current` points at, as an absolute path, or undefined. */
export function currentRelease(layout: InstallLayout): string | undefined {
  try {
    return path.resolve(layout.root, fs.readlinkSync(layout.current));
  } catch {
    return undefined;
  }
}

/** Point `current` at `release` with one rename(2): readers see the old or the new link, never none. */
export function switchCurrent(layout: InstallLayout, release: string): void {
  const tmp = `${layout.current}.next-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.relative(layout.root, release), tmp);
  fs.renameSync(tmp, layout.current);
  syncDir(layout.root);
}

export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function releaseName(version: string, packageId?: string): string {
  const safe = version.replace(/[^A-Za-z0-9._+-]/g, '_');
  return packageId ? `${safe}_${packageId.slice(0, 8)}` : safe;
}

export function initInstallRoot(root: string, version: string): string {
  const layout = installLayout(root);
  const release = path.join(layout.releases, releaseName(version));
  mkdirNoFollow(layout.releases, 0o755);
  mkdirNoFollow(release, 0o755);
  switchCurrent(layout, release);
  return release;
}
