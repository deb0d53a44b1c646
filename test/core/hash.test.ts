import { describe, expect, it } from 'vitest';
import {
  hashExpression,
  hashExpressionRange,
  murmurHash3x86x128,
  NonAsciiExpressionError,
} from '../../src/core/hash.ts';

/** h1..h4 as `0x` and each word in hex without leading zeros, the form the Swift vectors below use. */
function swiftForm(text: string, seed: number): string {
  const out = new Uint32Array(4);
  murmurHash3x86x128(text, seed, out);
  return `0x${Array.from(out, (w) => w.toString(16)).join('')}`;
}

/** h1..h4 as 32 hex digits, the form of the C port's vectors. */
function paddedForm(text: string, seed: number): string {
  const out = new Uint32Array(4);
  murmurHash3x86x128(text, seed, out);
  return Array.from(out, (w) => w.toString(16).padStart(8, '0')).join('');
}

describe('MurmurHash3 x86_128', () => {
  // Published vectors of daisuke-t-jp/MurmurHash-Swift (Tests/MurmurHashTests), every tail length 0..38.
  const hello = 'Hello World! Hello World! Hello World!';
  const seedZero = [
    '0x0000',
    '0xf69feb5df45637a0f45637a0f45637a0',
    '0x47f82b373b8fc7283b8fc7283b8fc728',
    '0x7b0cd2cdcc2b995ccc2b995ccc2b995c',
    '0x7f771597e65bee6ae65bee6ae65bee6a',
    '0x2360ae465e6336c6ad45b3f4ad45b3f4',
    '0x497dc9d9b73bad59a57b7235a57b7235',
    '0x3d021fe8d111dc31b6345ff3b6345ff3',
    '0xdb37ce0fe9a99ae0da8c411bda8c411b',
    '0x107e2665706ff8b8eb00bf34e910bf63',
    '0x2444bd95337fb2193d57dfac56dfdf0c',
    '0x92cafa6a59653c6540fffff0b3beb9c',
    '0x6bee9883eb1be4f59dfb7172ae3fbea9',
    '0xc85c2fe13e579f88205695c8120178a3',
    '0xaaadb4452b35ce375a481289ecaa84fe',
    '0x784f7f08ab145b43cf27d08dc5413b50',
    '0x82475db0161f88d8850474822a76794a',
    '0xa0cf95de87e61640ad45f08dc508c90a',
    '0x453fc5363af752fbaa52e054540a402c',
    '0x16e0ea8a87dc1e1968ba7919c38d718',
    '0xa1bb3aeeb021f26a8d88a16140ada06',
    '0x9fed48e5144ba009b58d3d34b62daee2',
    '0x5e0bfa86a6c2fe4b16a426fc9c59806a',
    '0xa6ab4d82ed6fbf3f627af123264aa386',
    '0x776c2a21a491f2be85e490296ce4db25',
    '0x86163d2b245b8ee23c4d056024166d77',
    '0xe9c90b461d053dc9fb456143a9a7aad',
    '0x1f21c189e59ba8379559e980acb9cad8',
    '0x846027381e604d1d88f1ce28caafed7d',
    '0x9ad096e1712df56be32adefb3cf31988',
    '0xbae66e9de4b7bfa9ad918ed5b8694d0d',
    '0x1f806c1c9e417e0874fe5e25f3d2e00',
    '0x4855a598c76f875e7760fe307dcc7b58',
    '0x27294dbafc42c30f321c908f55d4be',
    '0xe63975239102cb333dc5ae42c304eaa7',
    '0x39ac02d0185658e57e1daf6b7b1ccf52',
    '0x436b1e30e43564f7ad455aa64d1f128a',
    '0x1c95a3f7906f972c94ce43d912a4eebc',
    '0x97c20b59c7de4e21bf270576dcfc2f',
  ];

  it.each(seedZero.map((hash, length) => [hello.slice(0, length), hash]))(
    'hashes %j (seed 0)',
    (text, hash) => {
      expect(swiftForm(text, 0)).toBe(hash);
    },
  );

  it('matches the seeded vectors of two independent ports', () => {
    expect(swiftForm('', 0x7fffffff)).toBe('0xc129af263e0227f33e0227f33e0227f3');
    expect(swiftForm('Hello World!', 0x7fffffff)).toBe('0xc66703b38475a0687ee6e07dcce15102');
    expect(swiftForm('Hello World! Hello World! Hello World!', 0x7fffffff)).toBe(
      '0xe3c6f6b4f6a9a924be2cec052379f232',
    );
    // PeterScott/murmur3 test.c
    expect(paddedForm('Hello, world!', 123)).toBe('61c9129e5a1aacd7a41621629e37c886');
    expect(paddedForm('Hello, world!', 321)).toBe('d5fbdcb3c26c4193045880c5a7170f0f');
    expect(paddedForm('xxxxxxxxxxxxxxxxxxxxxxxxxxxx', 123)).toBe('5e40bab278825a164cf929d31fec6047');
    expect(paddedForm('', 123)).toBe('fedc524526f3e79926f3e79926f3e799');
  });
});

describe('hashExpression', () => {
  it('is MurmurHash3 x86_128 with seed 0, written into the given array', () => {
    const out = new Uint32Array(4);
    hashExpression('evil.example.com/login.php?x=1', out);
    expect(Array.from(out, (w) => w.toString(16).padStart(8, '0')).join('')).toBe(
      paddedForm('evil.example.com/login.php?x=1', 0),
    );
    const again = new Uint32Array(4);
    hashExpression('evil.example.com/login.php?x=1', again);
    expect(again).toEqual(out);
    hashExpression('example.com/', again);
    expect(again).not.toEqual(out);
  });

  it.each([
    ['é', 'a byte above 0x7f'],
    ['exämple.com/', 'one in a tail'],
    ['abcdefghijklmnop\u0100/', 'a code unit above 0xff after a full block'],
    ['\u4e00bcdefghijklmnopq/', 'one in the first block'],
    ['example.com/\u{1F600}', 'a surrogate pair'],
  ])('refuses %j (%s) with a named error', (text) => {
    expect(() => hashExpression(text, new Uint32Array(4))).toThrow(NonAsciiExpressionError);
    expect(() => hashExpression(text, new Uint32Array(4))).toThrow(/not ASCII/);
  });
});

describe('hashExpressionRange', () => {
  it('equals hashExpression of the slice, for every range of a URL (every block and tail length)', () => {
    const text = 'https://a.b.evil.example.co.uk/path/to/login.php?user=x&next=%2Fhome';
    const whole = new Uint32Array(4);
    const range = new Uint32Array(4);
    for (let start = 0; start < text.length; start++) {
      for (let end = start; end <= text.length; end++) {
        hashExpression(text.slice(start, end), whole);
        hashExpressionRange(text, start, end, range);
        expect(range).toEqual(whole);
      }
    }
  });

  it('equals it for ranges hashed one after another with one start and growing ends (shared blocks)', () => {
    const text = 'https://evil.example.com/a/b/c/d/login.php?user=someone&next=%2Fhome%2Fafter%2Flogin';
    for (const start of [0, 8, 13]) {
      const expected = [];
      for (let end = start; end <= text.length; end++) {
        const out = new Uint32Array(4);
        hashExpression(text.slice(start, end), out);
        expected.push(out);
      }
      const got = [];
      for (let end = start; end <= text.length; end++) {
        const out = new Uint32Array(4);
        hashExpressionRange(text, start, end, out);
        got.push(out);
      }
      expect(got).toEqual(expected);
    }
  });

  it('refuses a non-ASCII range and names only that range', () => {
    const text = 'http://example.com/é?x';
    expect(() => hashExpressionRange(text, 7, 20, new Uint32Array(4))).toThrow('"example.com/é"');
    expect(() => hashExpressionRange(text, 7, 19, new Uint32Array(4))).not.toThrow();
  });
});
