/**
 * Peak memory of a big package's apply. Every chunk that streams through the decrypt
 * (file reads, decrypted pieces, openpgp.js's copies) is a Buffer outside V8's heap, and V8
 * collects such memory only once 64 MB more of it was allocated since its last full
 * collection. Two ways to ask for it sooner: a full collection (~20 ms), and a young-only
 * one (a scavenge, well under 1 ms), which frees the Buffers that died young — the chunks of
 * a stream, when it runs every few MB of them.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (options?: { type: 'minor' | 'major' }) => void;

let gc: Gc | null | undefined;

function runtimeGc(): Gc | null {
  if (gc === undefined) {
    // global.gc exists only with --expose-gc; a context made after the flag is set has it
    v8.setFlagsFromString('--expose-gc');
    const found = vm.runInNewContext('gc') as unknown;
    gc = typeof found === 'function' ? (found as Gc) : null;
  }
  return gc;
}

/** A full garbage collection now (when the runtime lets rds ask for one). */
export function collectGarbage(): void {
  runtimeGc()?.();
}

/** A young-generation collection now: frees the Buffers that died since the last one. */
export function collectYoungGarbage(): void {
  runtimeGc()?.({ type: 'minor' });
}

/** Every `bytes` of a stream, a young-generation collection (`collectYoungGarbage`). */
export function youngGarbageEvery(bytes: number): (n: number) => void {
  let since = 0;
  return (n) => {
    since += n;
    if (since < bytes) return;
    since = 0;
    collectYoungGarbage();
  };
}
