import fs from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { packUpdate, parseModuleSpec } from '../core/package/pack.js';
import { openContext } from './context.js';
import type { OptionsOf } from './specs/define.js';
import type { packUpdate as packUpdateSpec } from './specs/host.js';
import type { CommandResult, GlobalOptions } from './types.js';

export type PackOptions = OptionsOf<typeof packUpdateSpec>;

export async function run(options: PackOptions, globals: GlobalOptions): Promise<CommandResult> {
  const modules = options.module.map(parseModuleSpec);
  const ctx = await openContext(globals, 'pack-update', { role: 'host' });
  try {
    const output = path.resolve(options.output ?? `update-${options.softwareVersion}.rdsu`);
    checkOutputFile(output);
    const key = await ctx.privateKey();
    const manifest = await packUpdate({
      softwareVersion: options.softwareVersion,
      ...(options.romVersion ? { romVersion: options.romVersion } : {}),
      script: options.script,
      ...(options.healthCheck ? { healthCheck: options.healthCheck } : {}),
      modules,
      allowDowngrade: options.allowDowngrade ?? false,
      timeoutSeconds: Math.max(1, Math.round(parseDuration(options.timeout, '--timeout') / 1000)),
      encryptionKeys: [key.toPublic()],
      signingKey: key,
      output,
    });
    return {
      data: { file: output, packageId: manifest.packageId, softwareVersion: manifest.softwareVersion, modules: manifest.modules },
      text: `packed ${output}\n  package ${manifest.packageId}, Software Version ${manifest.softwareVersion}, ${manifest.modules.length} module(s)`,
    };
  } finally {
    ctx.close();
  }
}

/** `-o FILE`: its folder exists and this user may write there; FILE is not a folder. */
function checkOutputFile(output: string): void {
  const dir = path.dirname(output);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new UsageError('BAD_OUTPUT', `-o ${output}: the folder ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw new UsageError('BAD_OUTPUT', `-o ${output}: ${dir} is not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UsageError('BAD_OUTPUT', `-o ${output}: this user may not write to ${dir}`);
  }
  if (fs.existsSync(output) && fs.statSync(output).isDirectory()) {
    throw new UsageError('BAD_OUTPUT', `-o ${output} is a folder; name the package file, e.g. -o ${path.join(output, 'update.rdsu')}`);
  }
}
