// OpenPGP packet body lengths, shared by the SEIPD reader (package/seipd.ts) and the signer read (signature-issuer.ts).

/** A new-format body length (RFC 9580 §4.2.1) at `offset`, or undefined when `bytes` ends first. */
export function readBodyLength(bytes: Uint8Array, offset: number): { length: number; partial: boolean; size: number } | undefined {
  const l0 = bytes[offset];
  if (l0 === undefined) return undefined;
  if (l0 < 192) return { length: l0, partial: false, size: 1 };
  if (l0 < 224) {
    const l1 = bytes[offset + 1];
    return l1 === undefined ? undefined : { length: ((l0 - 192) << 8) + l1 + 192, partial: false, size: 2 };
  }
  if (l0 === 255) {
    if (offset + 5 > bytes.length) return undefined;
    const length = new DataView(bytes.buffer, bytes.byteOffset + offset + 1, 4).getUint32(0);
    return { length, partial: false, size: 5 };
  }
  return { length: 2 ** (l0 & 0x1f), partial: true, size: 1 };
}
