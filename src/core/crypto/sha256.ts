/**
 * SHA-256 (FIPS 180-4) of a few kilobytes, in plain JavaScript: the digest key-check.ts
 * compares key files by on every agent pass. Loading node:crypto costs a cron pass a few
 * milliseconds of its CPU (issue 13: fifteen internal modules, before any hashing), more
 * than hashing two key files here. The digest is the same, byte for byte, as node:crypto's
 * (sha256.test.ts compares them on generated inputs). Anything that signs, verifies,
 * encrypts or hashes mail and packages keeps using node:crypto and openpgp.
 */

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
/** A typed array's word (the index is always in range here). */
const at = (a: Uint32Array, i: number) => a[i] as number;

/** The message schedule of one 64-byte block of `data` at `offset`, into `w`. */
function schedule(w: Uint32Array, data: DataView, offset: number): void {
  for (let i = 0; i < 16; i++) w[i] = data.getUint32(offset + i * 4);
  for (let i = 16; i < 64; i++) {
    const x = at(w, i - 15);
    const y = at(w, i - 2);
    const s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
    const s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10);
    w[i] = (at(w, i - 16) + s0 + at(w, i - 7) + s1) | 0;
  }
}

/** One block (its schedule in `w`) mixed into the state `h`: the 64 rounds. */
function rounds(h: Uint32Array, w: Uint32Array): void {
  const v = h.slice(); // a b c d e f g h
  for (let i = 0; i < 64; i++) {
    const e = at(v, 4);
    const a = at(v, 0);
    const ch = (e & at(v, 5)) ^ (~e & at(v, 6));
    const t1 = (at(v, 7) + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ch + at(K, i) + at(w, i)) | 0;
    const maj = (a & at(v, 1)) ^ (a & at(v, 2)) ^ (at(v, 1) & at(v, 2));
    const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + maj) | 0;
    v.copyWithin(1, 0, 7); // h = g, g = f, …, b = a
    v[4] = (at(v, 4) + t1) | 0; // e = d + t1 (d moved into slot 4)
    v[0] = (t1 + t2) | 0;
  }
  for (let i = 0; i < 8; i++) h[i] = (at(h, i) + at(v, i)) | 0;
}

/** The SHA-256 of `bytes` as 64 lowercase hex digits (node:crypto's `digest('hex')`). */
export function sha256Hex(bytes: Uint8Array): string {
  const padded = new Uint8Array((Math.floor((bytes.length + 8) / 64) + 1) * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  // the length in bits, big-endian, in the last 8 bytes
  view.setUint32(padded.length - 8, Math.floor(bytes.length / 0x20000000));
  view.setUint32(padded.length - 4, (bytes.length * 8) >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  for (let offset = 0; offset < padded.length; offset += 64) {
    schedule(w, view, offset);
    rounds(h, w);
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, '0')).join('');
}
