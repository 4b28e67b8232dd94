/**
 * An update package decrypted straight into its unpack (issue 13): the plaintext (the
 * gzip'd tar) goes from the decrypt (unpack.ts) into the tar parser and the stage as it is
 * decrypted, never written out whole and read back. The verdicts keep their order: the
 * package's own checks (for this agent, integrity, the host's signature) come first, and
 * only for a package that passed them all does the unpack's verdict count (an unsafe entry,
 * a damaged archive, a hash that does not match, the admission's refusal). Until then
 * nothing in the stage is used: the caller removes the stage when this throws, and nothing
 * runs from it before it returned.
 */
import type { ExtractLimits, ExtractResult, ManifestDecision } from './extract.js';
import { Extractor } from './extractor.js';
import type { UpdateManifest } from './manifest.js';
import { packageSource } from './source.js';
import { type DecryptInput, decryptThrough } from './unpack.js';

/**
 * Decrypt, verify and unpack a package into `payloadDir` (which must not exist yet);
 * `onManifest` admits it (or stops or refuses) as soon as its manifest is read.
 */
export async function unpackPackage(
  input: DecryptInput,
  payloadDir: string,
  limits: ExtractLimits,
  onManifest: (manifest: UpdateManifest) => ManifestDecision,
): Promise<ExtractResult> {
  const source = packageSource(input.file);
  // the archive is shorter than the package that carries it: the ratio guard's bound until its end
  const extractor = new Extractor(payloadDir, source.size(), limits, onManifest);
  let archiveBytes: number;
  try {
    archiveBytes = await decryptThrough({ ...input, file: source }, (chunk) => extractor.write(chunk));
  } catch (error) {
    extractor.abandon();
    throw error;
  }
  return extractor.end(archiveBytes);
}
