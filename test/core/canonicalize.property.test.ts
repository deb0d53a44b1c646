import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lookupExpressions } from '../../src/core/expressions.ts';
import { canonicalHost } from '../../src/core/host.ts';
import { parseTarget } from '../../src/core/target.ts';
import { canonicalizeUrl } from '../../src/core/url.ts';

const RUNS = { numRuns: 2000, seed: 20240611 };

/** Pieces that exercise every branch of canonicalization: escapes, dots, slashes, IPs, IDN, controls. */
const piece = fc.constantFrom(
  'a',
  'B',
  'z',
  '0',
  '1',
  '9',
  '-',
  '_',
  '.',
  '..',
  '/',
  '//',
  '\\',
  '?',
  '#',
  '@',
  ':',
  '[',
  ']',
  ' ',
  '\t',
  '\n',
  '%',
  '%2',
  '%25',
  '%2e',
  '%2E',
  '%2f',
  '%3F',
  '%23',
  '%00',
  '%80',
  '%C3%A9',
  '%ff',
  'é',
  'ß',
  '例',
  'ｅ',
  '．',
  '。',
  '\u0000',
  '\u007f',
  '\ud800',
  '0x',
  '0x7f',
  '127',
  '256',
  '4294967295',
  'xn--',
  'http:',
  'https://',
  'www.',
  'com',
);
const urlish = fc
  .tuple(
    fc.constantFrom('', 'http://', 'https://', 'HTTP://', '//', 'http:/', 'http:'),
    fc.array(piece, { maxLength: 12 }).map((p) => p.join('')),
    fc.array(piece, { maxLength: 16 }).map((p) => p.join('')),
  )
  .map(([scheme, host, rest]) => `${scheme}${host}${rest}`);

const latin1Bytes = fc.uint8Array({ maxLength: 80 }).map((b) => String.fromCharCode(...b));
const codeUnits = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 60 })
  .map((u) => String.fromCharCode(...u));
const anyInput = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  latin1Bytes,
  codeUnits,
  urlish,
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
);

/** URLs shaped like real traffic, most of which take the fast path. */
const realisticUrl = fc
  .tuple(
    fc.constantFrom('http://', 'https://', 'HTTP://', 'Https://'),
    fc.domain(),
    fc.constantFrom('', ':8080', ':'),
    fc.array(fc.constantFrom('a', 'B', '.', '..', '-', '_', '~', '=', '&', ';', '%41', '\\'), {
      maxLength: 6,
    }),
    fc.array(fc.constantFrom('/', '?', 'x', '.', '..', '=', '/.', '/..', '?a=b'), { maxLength: 8 }),
  )
  .map(([scheme, host, port, seg, tail]) => `${scheme}${host}${port}/${seg.join('')}${tail.join('')}`);

const isPrintableAscii = (s: string) => /^[\x21-\x7e]+$/.test(s);

describe('canonicalization properties', () => {
  it('never throws, and every expression is printable ASCII', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        canonicalHost(input);
        const t = parseTarget(input);
        if (t.ok) expect(isPrintableAscii(t.value.expression)).toBe(true);
        const c = canonicalizeUrl(input);
        if (!c.ok) return;
        expect(isPrintableAscii(c.value.href)).toBe(true);
        for (const e of lookupExpressions(c.value)) expect(isPrintableAscii(e)).toBe(true);
      }),
      RUNS,
    );
  });

  it('canonicalizing twice changes nothing', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const c = canonicalizeUrl(input);
        if (!c.ok) return;
        const again = canonicalizeUrl(c.value.href);
        expect(again.ok).toBe(true);
        if (!again.ok) return;
        expect(again.value).toEqual(c.value);
      }),
      RUNS,
    );
  });

  it('parseTarget of a canonical URL gives the same expression, and lookups of it contain it', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const t = parseTarget(input);
        if (!t.ok) return;
        const again = parseTarget(t.value.canonicalUrl);
        expect(again.ok && again.value.expression).toBe(t.value.expression);
        const c = canonicalizeUrl(t.value.canonicalUrl);
        expect(c.ok && lookupExpressions(c.value)).toContain(t.value.expression);
      }),
      RUNS,
    );
  });

  it('the fast path agrees with the full algorithm', () => {
    // A leading space is trimmed by canonicalization but sends the input past the fast path.
    fc.assert(
      fc.property(fc.oneof(anyInput, fc.webUrl({ withQueryParameters: true }), realisticUrl), (input) => {
        const outcome = (r: ReturnType<typeof canonicalizeUrl>) => (r.ok ? r.value : r.error.code);
        expect(outcome(canonicalizeUrl(` ${input}`))).toEqual(outcome(canonicalizeUrl(input)));
      }),
      RUNS,
    );
  });

  it('canonicalHost is idempotent and agrees with parseTarget', () => {
    fc.assert(
      fc.property(fc.oneof(fc.domain(), urlish, fc.string({ unit: 'binary', maxLength: 40 })), (input) => {
        const h = canonicalHost(input);
        if (!h.ok) return;
        expect(canonicalHost(h.value)).toEqual(h);
        const t = parseTarget(input);
        expect(t.ok && t.value.expression).toBe(`${h.value}/`);
      }),
      RUNS,
    );
  });

  it('lookup expressions are unique, start with the exact host, and stay within Safe Browsing bounds', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const c = canonicalizeUrl(input);
        if (!c.ok) return;
        const got = lookupExpressions(c.value);
        expect(new Set(got).size).toBe(got.length);
        expect(got[0]).toBe(c.value.expression);
        expect(got.length).toBeLessThanOrEqual(30);
      }),
      RUNS,
    );
  });
});
