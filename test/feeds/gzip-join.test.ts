import { execFileSync } from 'node:child_process';
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32,
  crc32Combine,
  GZIP_HEADER_BYTES,
  GZIP_TRAILER_BYTES,
  joinGzip,
} from '../../src/feeds/gzip-join.ts';

/** `head ‖ payload` as one gzip member from the payload's own gzip. */
function joined(head: Uint8Array, payload: Uint8Array): Buffer {
  const gz = gzipSync(payload);
  const { prefix, trailer } = joinGzip(head, gz.subarray(-GZIP_TRAILER_BYTES), payload.length);
  return Buffer.concat([prefix, gz.subarray(GZIP_HEADER_BYTES, -GZIP_TRAILER_BYTES), trailer]);
}

describe('one gzip member of a head and a gzipped payload', () => {
  it('computes the CRC-32 that gzip writes, and combines two of them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        const whole = gzipSync(Buffer.concat([a, b]));
        const crc = whole.readUInt32LE(whole.length - 8);
        expect(crc32(Buffer.concat([a, b]))).toBe(crc);
        expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc);
      }),
    );
  });

  it('decodes to head and payload as one member, as zlib and gzip(1) read it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.string({ maxLength: 5000 }), (h, p) => {
        const payload = new TextEncoder().encode(p);
        const gz = joined(h, payload);
        expect(gunzipSync(gz).equals(Buffer.concat([h, payload]))).toBe(true);
        // One deflate stream between one header and one trailer: not two members.
        expect(inflateRawSync(gz.subarray(GZIP_HEADER_BYTES, -GZIP_TRAILER_BYTES)).length).toBe(
          h.length + payload.length,
        );
      }),
      { numRuns: 50 },
    );
    const head = new Uint8Array(300).map((_, i) => i & 0xff);
    const payload = new TextEncoder().encode('a.example/\tdomain\tphishing\tblock\n'.repeat(20000));
    // gzip(1) checks the trailer's CRC and length, and reads every member: one member passes.
    const out = execFileSync('gzip', ['-dc'], { input: joined(head, payload) });
    expect(out.equals(Buffer.concat([head, payload]))).toBe(true);
  });
});
