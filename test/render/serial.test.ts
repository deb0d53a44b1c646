import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSerial, SERIALS_PER_VERSION, serialNewer, zoneSerial } from '../../src/render/serial.ts';

describe('RFC 1982 serial arithmetic', () => {
  it('orders nearby serials and wraps around 2^32', () => {
    expect(compareSerial(1, 2)).toBe(-1);
    expect(compareSerial(2, 1)).toBe(1);
    expect(compareSerial(7, 7)).toBe(0);
    expect(serialNewer(0, 4_294_967_295)).toBe(true);
    expect(serialNewer(5, 4_294_967_290)).toBe(true);
    expect(serialNewer(4_294_967_290, 5)).toBe(false);
  });

  it('leaves serials exactly 2^31 apart unordered', () => {
    expect(compareSerial(0, 2 ** 31)).toBeUndefined();
    expect(compareSerial(2 ** 31, 0)).toBeUndefined();
    expect(serialNewer(2 ** 31, 0)).toBe(false);
  });

  it('rejects values that are not 32-bit serials', () => {
    expect(() => compareSerial(-1, 0)).toThrow(/not an unsigned 32-bit integer/);
    expect(() => compareSerial(0, 2 ** 32)).toThrow(RangeError);
    expect(() => compareSerial(1.5, 0)).toThrow(RangeError);
  });

  it('a serial advanced by less than 2^31 is newer, and the relation is antisymmetric', () => {
    const serial = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    fc.assert(
      fc.property(serial, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (s, step) => {
        const next = (s + step) % 2 ** 32;
        return serialNewer(next, s) && !serialNewer(s, next) && compareSerial(s, next) === -1;
      }),
    );
  });

  it('gives each version SERIALS_PER_VERSION serials: its own, then its pieces, all before the next version', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 24 }), (v, ahead) => {
        const serials = Array.from({ length: SERIALS_PER_VERSION }, (_, piece) => zoneSerial(v, piece));
        serials.push(zoneSerial(v + ahead));
        return serials.every((s, i) => i === 0 || serialNewer(s, serials[i - 1] as number));
      }),
    );
    expect(zoneSerial(2 ** 32 + 3, 5)).toBe(3 * SERIALS_PER_VERSION + 5);
    expect(() => zoneSerial(1, SERIALS_PER_VERSION)).toThrow(/piece/);
  });
});
