/** `manifest.json`, the first entry of every update package's tar (docs/formats.md#the-manifest). */
import { REFUSAL, SecurityError } from '../errors.js';
import { isVersion } from '../version/version.js';
import { MODE_TEXT, parseModeText, unsafeModeReason } from './modes.js';

export const MANIFEST_FORMAT = 'rdsu/1';
export const MANIFEST_NAME = 'manifest.json';

export interface ManifestModule {
  name: string;
  version: string;
  /** YYYY/MM/DD, as in the version text */
  date: string;
  /** path inside the package, under modules/ */
  path: string;
}

export interface UpdateManifest {
  format: typeof MANIFEST_FORMAT;
  packageId: string;
  softwareVersion: string;
  romVersion?: string;
  /** signed permission to install a version lower than the running one */
  allowDowngrade: boolean;
  script: string;
  /** the health check script (docs/install.md#health-check): runs after the switch; absent in packages without one */
  healthCheck?: string;
  timeoutSeconds: number;
  modules: ManifestModule[];
  /** SHA-256 (hex) of every regular file in the package except the manifest */
  files: Record<string, string>;
  /** permission bits (octal text, e.g. "0755") of every file in `files`; absent in packages made before it existed */
  modes?: Record<string, string>;
  createdAt: string;
}

function invalid(message: string): never {
  throw new SecurityError(REFUSAL.PACKAGE_MANIFEST_INVALID, `manifest: ${message}`);
}

const SAFE_NAME = /^[A-Za-z0-9._+-][A-Za-z0-9._+ -]{0,127}$/;

export function validateManifest(value: unknown): UpdateManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('is not a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) invalid(`format is ${JSON.stringify(m.format)}, expected '${MANIFEST_FORMAT}'`);
  if (typeof m.packageId !== 'string' || !/^[A-Za-z0-9-]{8,64}$/.test(m.packageId)) invalid('packageId is missing');
  if (typeof m.softwareVersion !== 'string' || !isVersion(m.softwareVersion)) invalid('softwareVersion is not a version');
  if (m.romVersion !== undefined && (typeof m.romVersion !== 'string' || !isVersion(m.romVersion))) invalid('romVersion is not a version');
  if (typeof m.allowDowngrade !== 'boolean') invalid('allowDowngrade is not a boolean');
  if (typeof m.script !== 'string' || !SAFE_NAME.test(m.script)) invalid('script is not a plain file name');
  if (typeof m.timeoutSeconds !== 'number' || !Number.isInteger(m.timeoutSeconds) || m.timeoutSeconds < 1 || m.timeoutSeconds > 86_400) {
    invalid('timeoutSeconds must be a whole number from 1 to 86400');
  }
  if (typeof m.files !== 'object' || m.files === null || Array.isArray(m.files)) invalid('files is not an object');
  for (const [file, hash] of Object.entries(m.files as Record<string, unknown>)) {
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) invalid(`files['${file}'] is not a SHA-256`);
  }
  if (m.modes !== undefined) validateModes(m.modes, m.files as Record<string, unknown>);
  if (!(m.script in (m.files as object))) invalid(`script '${m.script}' is not among the files`);
  if (m.healthCheck !== undefined) {
    if (typeof m.healthCheck !== 'string' || !SAFE_NAME.test(m.healthCheck)) invalid('healthCheck is not a plain file name');
    if (m.healthCheck === m.script) invalid(`healthCheck '${m.healthCheck}' is the install script`);
    if (!(m.healthCheck in (m.files as object))) invalid(`healthCheck '${m.healthCheck}' is not among the files`);
  }
  if (!Array.isArray(m.modules)) invalid('modules is not a list');
  const names = new Set<string>();
  for (const mod of m.modules as unknown[]) {
    const x = mod as Record<string, unknown>;
    if (typeof x?.name !== 'string' || !SAFE_NAME.test(x.name) || x.name.includes('  ')) invalid('a module has no valid name');
    if (names.has(x.name)) invalid(`module '${x.name}' is listed twice`);
    names.add(x.name);
    if (typeof x.version !== 'string' || !isVersion(x.version)) invalid(`module '${x.name}' has no valid version`);
    if (typeof x.date !== 'string' || !/^\d{4}\/\d{2}\/\d{2}$/.test(x.date)) invalid(`module '${x.name}' has no valid date`);
    if (typeof x.path !== 'string' || !x.path.startsWith('modules/')) invalid(`module '${x.name}' has no path under modules/`);
  }
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) invalid('createdAt is not a date');
  return m as unknown as UpdateManifest;
}

/** `modes` covers exactly the files, each with safe permission bits only (see modes.ts). */
function validateModes(modes: unknown, files: Record<string, unknown>): void {
  if (typeof modes !== 'object' || modes === null || Array.isArray(modes)) invalid('modes is not an object');
  for (const [file, text] of Object.entries(modes as Record<string, unknown>)) {
    if (!(file in files)) invalid(`modes['${file}'] names a file that files does not list`);
    if (typeof text !== 'string' || !MODE_TEXT.test(text)) invalid(`modes['${file}'] is not an octal mode such as "0755"`);
    const reason = unsafeModeReason(parseModeText(text));
    if (reason) invalid(`modes['${file}'] is ${text}, which ${reason}`);
  }
  for (const file of Object.keys(files)) if (!(file in (modes as object))) invalid(`modes has no entry for '${file}'`);
}
