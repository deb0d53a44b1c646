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
