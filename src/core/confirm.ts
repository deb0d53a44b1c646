/**
 * Confirmation keys of the `filter` feed: the top `bits` bits of an expression hash's last 64 bits
 * (words 2 and 3), a whole number below 2^53 so it is exact in a double. A Bloom hit is confirmed by
 * finding its key in the sorted key set; the key bits are independent of the Bloom filter's bits.
 */

/** Fewest key bits: below this, small feeds would collide for no gain in size. */
export const MIN_CONFIRMATION_BITS = 24;
/** Most key bits: keys stay exact integers in a double. */
export const MAX_CONFIRMATION_BITS = 53;

/**
 * The fewest key bits that keep the chance that a URL is falsely blocked below `falseBlockTarget`: a URL
 * looks up at most `maxExpressionsPerUrl` expressions, each passes the Bloom filter with `bloomFpr`
 * and then matches one of `entryCount` keys with probability entryCount / 2^bits. Clamped to
 * [{@link MIN_CONFIRMATION_BITS}, {@link MAX_CONFIRMATION_BITS}].
 */
export function confirmationBits(
  entryCount: number,
  bloomFpr: number,
  maxExpressionsPerUrl = 30,
  falseBlockTarget = 1e-12,
): number {
  const expected = maxExpressionsPerUrl * bloomFpr * Math.max(entryCount, 1);
  let bits = MIN_CONFIRMATION_BITS;
  while (bits < MAX_CONFIRMATION_BITS && expected / 2 ** bits >= falseBlockTarget) bits++;
  return bits;
}

/** Whether `bits` is a key width this format accepts. */
export const isConfirmationBits = (bits: number): boolean =>
  Number.isInteger(bits) && bits >= MIN_CONFIRMATION_BITS && bits <= MAX_CONFIRMATION_BITS;

/** The confirmation key of a 128-bit expression hash: the top `bits` bits of h[2]:h[3]. */
export function confirmationKey(hash: Uint32Array, bits: number): number {
  const high = hash[2] as number;
  if (bits <= 32) return high >>> (32 - bits);
  return high * 2 ** (bits - 32) + ((hash[3] as number) >>> (64 - bits));
}
