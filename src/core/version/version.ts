/**
 * A version (docs/formats.md#version-report-text): a common part `N.N.NN` followed by an optional free part
 * (`-1`, `-0`, `beta`): at most 64 printable ASCII characters, no space and no control, so a
 * version from an agent can never carry a terminal escape. Kept as text; compared through
 * `compareVersions`.
 */
import { ParseError } from '../errors.js';
import { showText } from '../text/show.js';

const VERSION_RE = /^(\d{1,9})\.(\d{1,9})\.(\d{1,9})([\x21-\x7e]{0,64})$/;

export interface ParsedVersion {
  major: number;
  minor: number;
  patch: number;
  free: string;
}

export function parseVersion(text: string, where = 'version'): ParsedVersion {
  const match = VERSION_RE.exec(text);
  if (!match) {
    throw new ParseError(
      'BAD_VERSION',
      `${where}: '${showText(text.slice(0, 80))}' is not a version (expected N.N.NN with an optional free part, e.g. 1.0.02-0)`,
    );
  }
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), free: match[4] ?? '' };
}

export function isVersion(text: string): boolean {
  return VERSION_RE.test(text);
}

/** Split a free part into digit runs and other runs: `-rc10` → ['-rc', '10']. */
function freeTokens(free: string): string[] {
  return free.match(/\d+|\D+/g) ?? [];
}

function compareToken(a: string, b: string): number {
  const aNum = /^\d/.test(a);
  const bNum = /^\d/.test(b);
  if (aNum && bNum) {
    const diff = BigInt(a) - BigInt(b);
    if (diff !== 0n) return diff < 0n ? -1 : 1;
    return a.length - b.length; // '01' after '1': equal value, keep the order total
  }
  if (aNum !== bNum) return aNum ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Total order: numerically on the common part, then on the free part (token by token,
 * digit runs numerically, an absent free part first), then on the raw text so that two
 * different strings never compare equal (`1.0.0` vs `1.0.00`).
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  const common = pa.major - pb.major || pa.minor - pb.minor || pa.patch - pb.patch;
  if (common !== 0) return Math.sign(common);
  const ta = freeTokens(pa.free);
  const tb = freeTokens(pb.free);
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const c = compareToken(ta[i] as string, tb[i] as string);
    if (c !== 0) return c;
  }
  if (ta.length !== tb.length) return ta.length < tb.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
