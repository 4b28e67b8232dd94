/**
 * Peak memory of a big package's apply. Every chunk that streams through the decrypt
 * (file reads, decrypted pieces, openpgp.js's copies) is a Buffer outside V8's heap, and V8
 * collects such memory only once 64 MB more of it was allocated since its last full
 * collection: what is left of the decrypt's garbage when the unpack starts adds to the
 * unpack's own. One full collection between the two (~20 ms) keeps the peak RSS of a 50 MB
 * apply-update under the 120 MB of issue 13 (bench/package.mjs); one every few MB would
 * lower it more, but costs ~0.2 s of CPU on 50 MB.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | null | undefined;

/** A full garbage collection now (when the runtime lets rds ask for one). */
export function collectGarbage(): void {
  if (collect === undefined) {
    // global.gc exists only with --expose-gc; a context made after the flag is set has it
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    collect = typeof gc === 'function' ? () => (gc as () => void)() : null;
  }
  collect?.();
}
