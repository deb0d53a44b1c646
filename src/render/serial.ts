// RFC 1982 serial number arithmetic for 32-bit SOA serials: a serial is "newer" when it lies less
// than half the number space ahead, so the registry version can wrap around 2^32 without secondaries
// mistaking the next version for an old one.

const HALF = 2 ** 31;
const SPACE = 2 ** 32;
const SERIAL_MODULUS = BigInt(SPACE);

/**
 * The SOA serial of registry version `version`: the version modulo 2^32, as RFC 1982 serial
 * arithmetic wraps it. A resolver sees each new version as newer as long as fewer than 2^31
 * versions pass between two transfers.
 */
export function rpzSerial(version: number | bigint): number {
  if (typeof version === 'number' ? !Number.isSafeInteger(version) || version < 0 : version < 0n) {
    throw new RangeError(`registry version ${version} is not a non-negative integer`);
  }
  return Number(BigInt(version) % SERIAL_MODULUS);
}

function checkSerial(serial: number): void {
  if (!Number.isInteger(serial) || serial < 0 || serial >= SPACE) {
    throw new RangeError(`SOA serial ${serial} is not an unsigned 32-bit integer`);
  }
}

/**
 * Compares two serials: -1 when `a` precedes `b`, 1 when it follows, 0 when equal, and undefined
 * when they are exactly 2^31 apart (RFC 1982 leaves that comparison undefined).
 */
export function compareSerial(a: number, b: number): -1 | 0 | 1 | undefined {
  checkSerial(a);
  checkSerial(b);
  if (a === b) return 0;
  const ahead = (a - b + SPACE) % SPACE;
  if (ahead === HALF) return undefined;
  return ahead < HALF ? 1 : -1;
}

/** True when `a` is strictly newer than `b` under RFC 1982. */
export function serialNewer(a: number, b: number): boolean {
  return compareSerial(a, b) === 1;
}

/**
 * SOA serials per registry version: the zone of version `v` has serial `v * SERIALS_PER_VERSION` (file
 * and DNS primary alike), and the DNS primary serves the pieces of a large change from `v` to the next
 * version at the serials in between, so a secondary applies them one IXFR at a time
 * (docs/DECISIONS.md, "IXFR pieces").
 */
export const SERIALS_PER_VERSION = 64;

/**
 * The SOA serial of registry version `version` (piece 0), or of piece `piece` on the way from it to the
 * next version, modulo 2^32. RFC 1982 then tells versions apart as long as fewer than 2^25 pass
 * between two transfers.
 */
export function zoneSerial(version: number | bigint, piece = 0): number {
  if (!Number.isInteger(piece) || piece < 0 || piece >= SERIALS_PER_VERSION) {
    throw new RangeError(`transfer piece ${piece} is not in 0..${SERIALS_PER_VERSION - 1}`);
  }
  const base = BigInt(rpzSerial(version)) * BigInt(SERIALS_PER_VERSION);
  return Number((base + BigInt(piece)) % SERIAL_MODULUS);
}
