/** Safe Browsing lookup expressions: the whole matching model of DESIGN section 2. */

import { registrableDomain } from './host.ts';
import type { CanonicalUrl } from './url.ts';

/** Safe Browsing looks at the last five labels at most (and never the last one alone). */
const MAX_SUFFIX_LABELS = 5;
/** `/` plus three more leading directories, as Chromium's V4 protocol code generates them. */
const MAX_PATH_PREFIXES = 4;

function countLabels(host: string): number {
  let n = 1;
  for (let i = 0; i < host.length; i++) if (host.charCodeAt(i) === 0x2e) n++;
  return n;
}

function computeSuffixes(host: string): readonly string[] {
  const labels = countLabels(host);
  if (labels <= 2) return [host];
  const domain = registrableDomain(host);
  if (domain === null) return [host];
  const minLabels = Math.max(countLabels(domain), 2);
  const out = [host];
  // Walk label starts left to right; a suffix of k labels starts after the (labels - k)th dot.
  let k = labels;
  for (let i = 0; i < host.length && k > minLabels; i++) {
    if (host.charCodeAt(i) !== 0x2e) continue;
    k--;
    if (k <= MAX_SUFFIX_LABELS) out.push(host.slice(i + 1));
  }
  return out;
}

/**
 * The last host's suffixes: URLs come in runs from one host (a page and its resources, a sorted list), and this
 * saves the public-suffix lookup, the costliest step. One entry only: a Map cache measured slower here, as its
 * entries outlive the young generation.
 */
let lastHost = '';
let lastSuffixes: readonly string[] = [''];

/** Host suffixes, exact host first; suffixes stop at the registrable domain, so never a bare public suffix. */
export function hostSuffixes(host: string, isIp: boolean): readonly string[] {
  if (isIp) return [host];
  if (host !== lastHost) {
    lastSuffixes = computeSuffixes(host);
    lastHost = host;
  }
  return lastSuffixes;
}

/** Path variants: path with query, path, then `/` and up to three more leading directories. */
export function pathVariants(path: string, query: string | null): string[] {
  const out = query ? [`${path}?${query}`, path] : [path];
  let prefixes = 0;
  const last = path.length - 1;
  for (let i = 0; i < last && prefixes < MAX_PATH_PREFIXES; i++) {
    if (path.charCodeAt(i) !== 0x2f) continue;
    prefixes++;
    out.push(i === 0 ? '/' : path.slice(0, i + 1));
  }
  return out;
}

/**
 * Safe Browsing lookup expressions of a canonical URL: host suffixes (the exact host, then up to 4 more from the
 * last 5 labels, never shorter than the registrable domain, so never a bare public suffix; an IP host only itself)
 * crossed with path variants (path with query, path, then `/` and leading directories, four prefixes at most as in
 * Chromium). Each expression once, the exact host (and then the full path) first. An entry matches a URL when it
 * is one of these: `example.com/` matches the whole site and its sub-domains.
 */
export function lookupExpressions(url: CanonicalUrl): string[] {
  try {
    const hosts = hostSuffixes(url.host, url.isIp);
    const paths = pathVariants(url.path, url.query);
    const out: string[] = [];
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i] as string;
      for (let j = 0; j < paths.length; j++) out.push(h + paths[j]);
    }
    return out;
  } catch {
    return [url.expression];
  }
}
