import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import * as tar from 'tar';
import { REFUSAL, SecurityError } from '../errors.js';
import { MANIFEST_NAME, type UpdateManifest, validateManifest } from './manifest.js';
import { decryptPackage } from './unpack.js';

/** The host reads back the manifest of a package it made (it is one of the recipients). */
export async function readPackageManifest(file: string, hostKey: openpgp.PrivateKey): Promise<UpdateManifest> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-inspect-'));
  try {
    const tarGz = path.join(dir, 'package.tar.gz');
    await decryptPackage({ file, outFile: tarGz, agentKey: hostKey, hostKey: hostKey.toPublic() });
    let text: string | undefined;
    await tar.t({
      file: tarGz,
      onReadEntry: (entry) => {
        if (entry.path !== MANIFEST_NAME || text !== undefined) return entry.resume();
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          text = Buffer.concat(chunks).toString('utf8');
        });
      },
    });
    if (text === undefined) throw new SecurityError(REFUSAL.PACKAGE_MANIFEST_INVALID, `${file} has no ${MANIFEST_NAME}`);
    return validateManifest(JSON.parse(text));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
