/**
 * File modes carried in the manifest (`modes`: path → "0755"), so an executable module stays
 * executable after the install script copies it. Only permission bits are allowed: a
 * setuid/setgid/sticky bit or a group/world write bit is refused at pack and at extract,
 * because the agent must never install something another local user can change or that
 * runs with someone else's rights.
 */
export const MODE_TEXT = /^0?[0-7]{3,4}$/;

/** Why `mode` may not travel in a package, or undefined when it may. */
export function unsafeModeReason(mode: number): string | undefined {
  if (mode & 0o7000) return 'has a setuid/setgid/sticky bit';
  if (mode & 0o022) return 'is group- or world-writable';
  if (!(mode & 0o400)) return 'is not readable by its owner';
  return undefined;
}

export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

export function parseModeText(text: string): number {
  return Number.parseInt(text, 8);
}
