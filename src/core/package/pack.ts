import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as openpgp from 'openpgp';
import * as tar from 'tar';
import { UsageError } from '../errors.js';
import { parseVersion } from '../version/version.js';
import { chooseGzipLevel, gzipInChunks } from './gzip.js';
import { MANIFEST_FORMAT, MANIFEST_NAME, type ManifestModule, type UpdateManifest } from './manifest.js';
import { formatMode, unsafeModeReason } from './modes.js';

/** The health check's name inside a package (the install script is always install.sh). */
export const HEALTH_CHECK_NAME = 'health-check.sh';

export interface ModuleSpec {
  name: string;
  version: string;
  source: string;
}

/** `NAME=VERSION:PATH` (docs/commands.md#host-commands `--module`). */
export function parseModuleSpec(text: string): ModuleSpec {
  const match = /^([^=\s][^=]*)=([^:]+):(.+)$/.exec(text);
  if (!match) throw new UsageError('BAD_MODULE', `--module '${text}': expected NAME=VERSION:PATH, e.g. main.cgi=1.0.01:./build/main.cgi`);
  const [, name, version, source] = match as unknown as [string, string, string, string];
  if (!/^[A-Za-z0-9._+-][A-Za-z0-9._+ -]{0,127}$/.test(name) || name.includes('  ')) {
    throw new UsageError('BAD_MODULE', `--module '${text}': '${name}' is not a plain module name`);
  }
  parseVersion(version, `--module ${name}`);
  if (!fs.existsSync(source)) throw new UsageError('BAD_MODULE', `--module ${name}: ${source} does not exist`);
  return { name, version, source: path.resolve(source) };
}

export interface PackInput {
  softwareVersion: string;
  romVersion?: string;
  script: string;
  /** a health check script, run by the agent after the switch (docs/install.md#health-check) */
  healthCheck?: string;
  modules: ModuleSpec[];
  allowDowngrade?: boolean;
  timeoutSeconds?: number;
  /** keys the package is encrypted to: the host's own (so push-all can re-wrap) and any agents */
  encryptionKeys: openpgp.PublicKey[];
  signingKey: openpgp.PrivateKey;
  output: string;
  now?: Date;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

interface Tree {
  files: Record<string, string>;
  modes: Record<string, string>;
}

/**
 * Hash every regular file under `root/rel` and record its mode, following the module links
 * like tar will; a mode that may not travel (setuid, group/world write) is refused here.
 */
async function hashTree(root: string, rel: string, into: Tree): Promise<void> {
  const full = path.join(root, rel);
  const stat = fs.statSync(full);
  if (stat.isDirectory()) {
    for (const child of fs.readdirSync(full).sort()) await hashTree(root, path.posix.join(rel, child), into);
  } else if (stat.isFile()) {
    const reason = unsafeModeReason(stat.mode & 0o7777);
    if (reason) {
      const source = fs.realpathSync(full);
      throw new UsageError(
        'BAD_MODULE',
        `${source} ${reason} (mode ${formatMode(stat.mode)}); fix it first, e.g. chmod go-w,-s,-t '${source}'`,
      );
    }
    into.files[rel] = await sha256File(full);
    into.modes[rel] = formatMode(stat.mode);
  } else {
    throw new UsageError('BAD_MODULE', `${full} is neither a file nor a folder`);
  }
}

function today(now: Date): string {
  return `${now.getFullYear()}/${String(now.getMonth() + 1).padStart(2, '0')}/${String(now.getDate()).padStart(2, '0')}`;
}

/**
 * Build one update package (docs/formats.md#update-package-rdsu): a gzip'd tar (manifest
 * first, then the install script and the module files), signed by the host and encrypted
 * once with a fresh session key. Everything streams: memory does not grow with the module
 * size.
 */
export async function packUpdate(input: PackInput): Promise<UpdateManifest> {
  parseVersion(input.softwareVersion, '--software-version');
  if (!fs.statSync(input.script, { throwIfNoEntry: false })?.isFile()) {
    throw new UsageError('BAD_SCRIPT', `--script ${input.script} is not a file`);
  }
  if (input.healthCheck !== undefined && !fs.statSync(input.healthCheck, { throwIfNoEntry: false })?.isFile()) {
    throw new UsageError('BAD_SCRIPT', `--health-check ${input.healthCheck} is not a file`);
  }
  const now = input.now ?? new Date();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-pack-'));
  try {
    const scriptName = 'install.sh';
    fs.copyFileSync(input.script, path.join(work, scriptName));
    fs.chmodSync(path.join(work, scriptName), 0o755);
    const healthName = input.healthCheck === undefined ? undefined : HEALTH_CHECK_NAME;
    if (input.healthCheck !== undefined) {
      fs.copyFileSync(input.healthCheck, path.join(work, HEALTH_CHECK_NAME));
      fs.chmodSync(path.join(work, HEALTH_CHECK_NAME), 0o755);
    }
    fs.mkdirSync(path.join(work, 'modules'));
    const modules: ManifestModule[] = [];
    for (const m of input.modules) {
      const rel = `modules/${m.name}`;
      fs.symlinkSync(m.source, path.join(work, rel));
      modules.push({ name: m.name, version: m.version, date: today(now), path: rel });
    }
    const tree: Tree = { files: {}, modes: {} };
    await hashTree(work, scriptName, tree);
    if (healthName) await hashTree(work, healthName, tree);
    for (const m of modules) await hashTree(work, m.path, tree);
    const { files, modes } = tree;
    const manifest: UpdateManifest = {
      format: MANIFEST_FORMAT,
      packageId: randomUUID(),
      softwareVersion: input.softwareVersion,
      ...(input.romVersion ? { romVersion: input.romVersion } : {}),
      allowDowngrade: input.allowDowngrade ?? false,
      script: scriptName,
      ...(healthName ? { healthCheck: healthName } : {}),
      timeoutSeconds: input.timeoutSeconds ?? 600,
      modules,
      files,
      modes,
      createdAt: now.toISOString(),
    };
    fs.writeFileSync(path.join(work, MANIFEST_NAME), JSON.stringify(manifest, null, 2));
    const entries = [MANIFEST_NAME, scriptName, ...(healthName ? [healthName] : []), ...(modules.length > 0 ? ['modules'] : [])];
    const level = chooseGzipLevel(Object.keys(files).map((rel) => path.join(work, rel)));
    const tarStream = tar.c({ cwd: work, follow: true, portable: true }, entries);
    // tar's stream is a Minipass; adapt it through its async iterator (backpressure kept)
    const source = gzipInChunks(tarStream as unknown as AsyncIterable<Buffer>, level);
    const message = await openpgp.createMessage({ binary: Readable.toWeb(source) as unknown as ReadableStream<Uint8Array> });
    const encrypted = await openpgp.encrypt({
      message,
      encryptionKeys: input.encryptionKeys,
      signingKeys: input.signingKey,
      format: 'binary',
    });
    const tmp = `${input.output}.tmp-${process.pid}`;
    await pipeline(
      Readable.fromWeb(encrypted as unknown as import('node:stream/web').ReadableStream),
      fs.createWriteStream(tmp, { mode: 0o600, flags: 'wx' }), // O_EXCL: never through a planted symlink
    );
    fs.renameSync(tmp, input.output);
    return manifest;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
