// One flipped bit in a signed OpenPGP message (property tests of signature checks).
import * as openpgp from 'openpgp';

/** Flip one bit of the signed message's binary form (header, literal data or signature). */
export async function tamper(armored: string, at: number, bit: number): Promise<string> {
  const { data } = await openpgp.unarmor(armored);
  const bytes = new Uint8Array(data as Uint8Array);
  const i = at % bytes.length;
  bytes[i] = (bytes[i] as number) ^ (1 << bit);
  return openpgp.armor(openpgp.enums.armor.message, bytes);
}
