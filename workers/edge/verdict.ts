/** The check every proxied request goes through (and the benchmark measures). */
import type { FilterState } from '../../src/core/filter-state.ts';
import type { Failure } from '../../src/core/types.ts';
import { type CanonicalUrl, canonicalizeUrl } from '../../src/core/url.ts';

/** What the edge decided about one URL. */
export type Verdict =
  | { ok: true; canonical: CanonicalUrl; blocked: boolean }
  /** The URL cannot be canonicalized, so no expression of it can be listed. */
  | { ok: false; error: Failure };

/**
 * Whether `url` is blocked by `state`: Safe Browsing canonical form, its lookup expressions, then the
 * Bloom filter with each hit confirmed by the exact key set (and the keys deltas added or removed).
 */
export function verdictOf(state: FilterState, url: string): Verdict {
  const canonical = canonicalizeUrl(url);
  if (!canonical.ok) return canonical;
  return {
    ok: true,
    canonical: canonical.value,
    blocked: state.isUrlBlocked(canonical.value),
  };
}
