import { describe, expect, it } from 'vitest';
import { hostSuffixes, lookupExpressions, pathVariants } from '../../src/core/expressions.ts';
import { encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { type CanonicalUrl, canonicalizeUrl } from '../../src/core/url.ts';
import { verdictOf } from '../../workers/edge/verdict.ts';
import { filterDeltaFrom } from '../helpers/filter-delta.ts';
import { fixtureLines as lines, value } from '../helpers/results.ts';

const raw = [
  ...lines('canonicalization/phishing-links-sample-2000.txt'),
  ...lines('render/ut1-phishing-urls-sample.txt'),
];
/** The real URLs, and each again on a deep sub-domain (beyond Safe Browsing's five-label window). */
const urls = [...raw, ...raw.map((u) => `https://a.b.c.d.${u.replace(/^[a-z]+:\/\//i, '')}`)];
const canonical = urls.flatMap((u) => {
  const c = canonicalizeUrl(u);
  return c.ok ? [c.value] : [];
});

/** Every host suffix down to one label (public suffixes included) crossed with every path variant. */
function candidates(url: CanonicalUrl): string[] {
  const labels = url.host.split('.');
  const hosts = url.isIp ? [url.host] : labels.map((_, i) => labels.slice(i).join('.'));
  const paths = pathVariants(url.path, url.query);
  return hosts.flatMap((h) => paths.map((p) => h + p));
}

/** A seeded choice of entries: some are lookup expressions, others lie outside them (below the registrable
 * domain, outside the five-label window), so both answers are exercised. */
function entriesFrom(urls: readonly CanonicalUrl[], every: number, rootOnly: boolean): string[] {
  const out = new Set<string>();
  let s = 0x2545f491;
  for (let i = 0; i < urls.length; i += every) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const all = candidates(urls[i] as CanonicalUrl).filter(
      (e) => !rootOnly || e.indexOf('/') === e.length - 1,
    );
    out.add(all[(s >>> 0) % all.length] as string);
  }
  return [...out];
}

const slow = (state: FilterState, url: CanonicalUrl) => state.isBlocked(lookupExpressions(url));

function disagreements(state: FilterState): string[] {
  return canonical.filter((c) => state.isUrlBlocked(c) !== slow(state, c)).map((c) => c.href);
}

function blockedCount(state: FilterState): number {
  return canonical.filter((c) => state.isUrlBlocked(c)).length;
}

const mixed = entriesFrom(canonical, 3, false);
const rootOnly = entriesFrom(canonical, 3, true);
/** Entries no URL may match: bare public suffixes and the private suffixes the host rules stop at. */
const publicSuffixes = ['com/', 'dev/', 'pages.dev/', 'github.io/', 'blogspot.com/', 'co.uk/', 'net/'];

describe('isUrlBlocked agrees with isBlocked(lookupExpressions) on real URLs', () => {
  it('has real URLs on both sides of the answer', () => {
    expect(canonical.length).toBeGreaterThan(4000);
    expect(mixed.filter((e) => e.indexOf('/') !== e.length - 1).length).toBeGreaterThan(300);
  });

  for (const fpr of [1e-6, 1 / 32, 1 / 2]) {
    it(`full state with url and domain entries, Bloom rate ${fpr}`, async () => {
      const state = value(FilterState.fromSnapshot((await encodeFilterSnapshot(mixed, { fpr })).payload));
      expect(disagreements(state)).toEqual([]);
      expect(blockedCount(state)).toBeGreaterThan(500);
      expect(blockedCount(state)).toBeLessThan(canonical.length - 500);
    });

    it(`full state with domain entries only (path expressions skipped), Bloom rate ${fpr}`, async () => {
      const state = value(FilterState.fromSnapshot((await encodeFilterSnapshot(rootOnly, { fpr })).payload));
      expect(disagreements(state)).toEqual([]);
      expect(blockedCount(state)).toBeGreaterThan(500);
    });

    it(`lean state (paths always looked up), Bloom rate ${fpr}`, async () => {
      const payload = (await encodeFilterSnapshot(rootOnly, { fpr })).payload;
      const state = value(FilterState.fromSnapshot(payload, { lean: true }));
      expect(disagreements(state)).toEqual([]);
    });
  }

  it('a delta that brings the first path keys to a domain-only state makes paths count again', async () => {
    const snapshot = await encodeFilterSnapshot(rootOnly, { fpr: 1 / 32 });
    const paths = mixed.filter((e) => e.indexOf('/') !== e.length - 1);
    const delta = filterDeltaFrom(rootOnly, paths, [], snapshot.bits);
    for (const lean of [false, true]) {
      const before = value(FilterState.fromSnapshot(snapshot.payload, { lean }));
      const after = value(before.applyDelta(delta));
      expect(disagreements(after)).toEqual([]);
      expect(blockedCount(after)).toBeGreaterThan(blockedCount(before));
    }
  });

  it('bare public suffixes never match, though the walk hashes them before the public-suffix lookup', async () => {
    const state = value(
      FilterState.fromSnapshot((await encodeFilterSnapshot(publicSuffixes, { fpr: 1 / 2 })).payload),
    );
    expect(disagreements(state)).toEqual([]);
    const under = canonical.filter((c) => publicSuffixes.some((p) => `${c.host}/`.endsWith(`.${p}`)));
    expect(under.length).toBeGreaterThan(500);
    expect(blockedCount(state)).toBe(0);
  });

  it('blocks a sub-domain at any depth and stops at the registrable domain of a private suffix', async () => {
    const state = value(
      FilterState.fromSnapshot(
        (await encodeFilterSnapshot(['example.com/', 'evil.pages.dev/', 'pages.dev/'], { fpr: 1e-6 }))
          .payload,
      ),
    );
    const blocked = (u: string) => {
      const v = verdictOf(state, u);
      return v.ok && v.blocked;
    };
    expect(blocked('http://a.b.c.d.e.f.example.com/x?y')).toBe(true);
    expect(blocked('https://x.evil.pages.dev/')).toBe(true);
    expect(blocked('https://other.pages.dev/')).toBe(false);
    expect(hostSuffixes('other.pages.dev', false)).toEqual(['other.pages.dev']);
  });
});
