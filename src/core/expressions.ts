/**
 * Lookup expressions: the whole matching model (docs/ARCHITECTURE.md, "Entries and matching").
 *
 * Two rules, one per entry class:
 * - `domain` entries (root expressions `host/`) match the name and every sub-domain at any depth: a URL's
 *   host suffixes go from the exact host down to its registrable domain, never to a bare public suffix. DNS
 *   consumers write the same thing as `name` plus `*.name`, so every enforcement point gives one verdict.
 * - `url` entries (expressions with a path or query) keep Safe Browsing's limits: the exact host and the
 *   suffixes within the last five labels, crossed with the path variants below. Only HTTP consumers enforce
 *   these, and the bound on false blocks counts at most 25 such expressions per URL (src/core/confirm.ts).
 */

import { registrableDomain } from './host.ts';
import type { CanonicalUrl } from './url.ts';

/** Safe Browsing looks at the last five labels at most for path expressions. */
const PATH_SUFFIX_LABELS = 5;
/** `/` plus three more leading directories, as Chromium's V4 protocol code generates them. */
const MAX_PATH_PREFIXES = 4;

/** A host's suffixes, exact host first, and from which index on a suffix lies in Safe Browsing's window. */
interface Suffixes {
  readonly hosts: readonly string[];
  readonly windowStart: number;
}

function countLabels(host: string): number {
  let n = 1;
  for (let i = 0; i < host.length; i++) if (host.charCodeAt(i) === 0x2e) n++;
  return n;
}

const single = (host: string): Suffixes => ({ hosts: [host], windowStart: 1 });

function computeSuffixes(host: string): Suffixes {
  const labels = countLabels(host);
  if (labels <= 2) return single(host);
  const domain = registrableDomain(host);
  if (domain === null) return single(host);
  const minLabels = Math.max(countLabels(domain), 2);
  const hosts = [host];
  // One pass over the dots, left to right: the suffix after the j-th dot has (labels - j) labels.
  let k = labels;
  for (let i = 0; i < host.length && k > minLabels; i++) {
    if (host.charCodeAt(i) !== 0x2e) continue;
    k--;
    hosts.push(host.slice(i + 1));
  }
  // Suffix i (i >= 1) has labels - i labels: within the window when that is at most PATH_SUFFIX_LABELS.
  return { hosts, windowStart: Math.max(1, labels - PATH_SUFFIX_LABELS) };
}

/**
 * The last host's suffixes: URLs come in runs from one host (a page and its resources, a sorted list), and this
 * saves the public-suffix lookup, the costliest step. One entry only: a Map cache measured slower here, as its
 * entries outlive the young generation.
 */
let lastHost = '';
let lastSuffixes: Suffixes = single('');

function suffixesOf(host: string, isIp: boolean): Suffixes {
  if (isIp) return single(host);
  if (host !== lastHost) {
    lastSuffixes = computeSuffixes(host);
    lastHost = host;
  }
  return lastSuffixes;
}

/**
 * Host suffixes a `domain` entry can match, exact host first, down to the registrable domain at any depth
 * (never a bare public suffix); an IP host only itself.
 */
export function hostSuffixes(host: string, isIp: boolean): readonly string[] {
  return suffixesOf(host, isIp).hosts;
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
 * Lookup expressions of a canonical URL, each once, the exact host (and then the full path) first: every host
 * suffix (see {@link hostSuffixes}) with `/`, and the suffixes in Safe Browsing's window (the exact host and
 * those of at most five labels) crossed with the other path variants. An entry matches a URL when it is one of
 * these: `example.com/` matches the whole site and its sub-domains at any depth.
 */
export function lookupExpressions(url: CanonicalUrl): string[] {
  try {
    const { hosts, windowStart } = suffixesOf(url.host, url.isIp);
    const paths = pathVariants(url.path, url.query);
    const out: string[] = [];
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i] as string;
      if (i === 0 || i >= windowStart) {
        for (let j = 0; j < paths.length; j++) out.push(h + paths[j]);
      } else {
        out.push(`${h}/`);
      }
    }
    return out;
  } catch {
    return [url.expression];
  }
}

/** What {@link anyExpressionMatches} looks expressions up in: one range of a string at a time. */
export interface ExpressionProbe {
  /** Whether the expression `text.slice(start, end)` is a member; `root` when it is a root expression. */
  matchesRange(text: string, start: number, end: number, root: boolean): boolean;
}

/**
 * Whether one of the {@link lookupExpressions} of `url` matches in `probe`, the same answer without building a
 * string: every expression is a host suffix followed by a prefix of `path?query`, so a range of `url.href`.
 * With `paths` false only root expressions are looked up (a probe that holds no other keys). Suffixes are
 * walked down to two labels and the registrable domain (a public-suffix lookup, the costliest step) is only
 * computed when a suffix other than the exact host matches, to refuse those below it.
 */
export function anyExpressionMatches(url: CanonicalUrl, probe: ExpressionProbe, paths: boolean): boolean {
  const text = url.href;
  const host = url.host;
  const hostStart = url.scheme.length + 3;
  const hostEnd = hostStart + host.length;
  const rootEnd = hostEnd + 1;
  if (paths) {
    if (matchesWithPaths(url, probe, hostStart, hostEnd)) return true;
  } else if (probe.matchesRange(text, hostStart, rootEnd, true)) return true;
  if (url.isIp) return false;
  const labels = countLabels(host);
  const windowStart = Math.max(1, labels - PATH_SUFFIX_LABELS);
  let k = labels;
  let suffix = 0;
  for (let i = hostStart; i < hostEnd && k > 2; i++) {
    if (text.charCodeAt(i) !== 0x2e) continue;
    k--;
    suffix++;
    const hit =
      paths && suffix >= windowStart
        ? matchesWithPaths(url, probe, i + 1, hostEnd)
        : probe.matchesRange(text, i + 1, rootEnd, true);
    // Suffixes come longest first: one below the registrable domain means all the rest are too.
    if (hit) return isAtOrAboveRegistrableDomain(host, k);
  }
  return false;
}

/** Whether a suffix of `labels` labels of `host` is one {@link hostSuffixes} lists. */
function isAtOrAboveRegistrableDomain(host: string, labels: number): boolean {
  const domain = registrableDomain(host);
  return domain !== null && labels >= Math.max(countLabels(domain), 2);
}

/** The host suffix starting at `start` crossed with every path variant (see {@link pathVariants}). */
function matchesWithPaths(
  url: CanonicalUrl,
  probe: ExpressionProbe,
  start: number,
  hostEnd: number,
): boolean {
  const text = url.href;
  const path = url.path;
  const rootEnd = hostEnd + 1;
  const pathEnd = hostEnd + path.length;
  // Shortest first: the hashes of ranges with one start and growing ends share their leading blocks.
  let prefixes = 0;
  const last = path.length - 1;
  for (let i = 0; i < last && prefixes < MAX_PATH_PREFIXES; i++) {
    if (path.charCodeAt(i) !== 0x2f) continue;
    prefixes++;
    if (probe.matchesRange(text, start, hostEnd + i + 1, i === 0)) return true;
  }
  if (probe.matchesRange(text, start, pathEnd, pathEnd === rootEnd)) return true;
  return !!url.query && probe.matchesRange(text, start, pathEnd + 1 + url.query.length, false);
}
