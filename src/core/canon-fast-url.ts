/**
 * The fast path of URL canonicalization: most URLs seen by a proxy or an edge worker are already canonical
 * (`http(s)://host[:port]/path[?query]` with a plain lower-case host and nothing to unescape or resolve).
 * One pass over the characters recognizes them and builds the result from slices, often reusing the input.
 */

import type { CanonicalUrl } from './url.ts';

function isEnd(c: number): boolean {
  return Number.isNaN(c) || c === 0x2f || c === 0x3f;
}

/** The canonical form of `s` when `s` takes the fast path, else null (then the full algorithm decides). */
export function fastCanonicalUrl(s: string): CanonicalUrl | null {
  const n = s.length;
  const c0 = s.charCodeAt(0);
  if ((c0 | 0x20) !== 104 || (s.charCodeAt(1) | 0x20) !== 116 || (s.charCodeAt(2) | 0x20) !== 116)
    return null;
  if ((s.charCodeAt(3) | 0x20) !== 112) return null;
  let i = 4;
  let scheme = 'http';
  if ((s.charCodeAt(4) | 0x20) === 115) {
    scheme = 'https';
    i = 5;
  }
  if (s.charCodeAt(i) !== 0x3a || s.charCodeAt(i + 1) !== 0x2f || s.charCodeAt(i + 2) !== 0x2f) return null;
  let reuse = c0 === 104 && s.charCodeAt(1) === 116 && s.charCodeAt(2) === 116 && s.charCodeAt(3) === 112;
  if (scheme === 'https') reuse &&= s.charCodeAt(4) === 115;
  i += 3;

  const hostStart = i;
  let labelStart = i;
  let upper = false;
  let c = 0;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95) continue;
    if (c === 0x2e) {
      if (i === labelStart) return null;
      labelStart = i + 1;
    } else if (c >= 65 && c <= 90) upper = true;
    else break;
  }
  const hostEnd = i;
  // Empty host, trailing dot, or a last label starting with a digit (IPv4 forms): the full algorithm.
  const first = s.charCodeAt(labelStart);
  if (labelStart === hostEnd || (first >= 48 && first <= 57)) return null;
  if (i < n && c === 0x3a) {
    reuse = false;
    for (i++; i < n; i++) {
      c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
    }
  }
  if (i < n && c !== 0x2f && c !== 0x3f) return null;

  const pathStart = i;
  let q = n;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c === 0x3f) {
      q = i;
      break;
    }
    if (c <= 0x20 || c >= 0x7f || c === 0x23 || c === 0x25 || c === 0x5c) return null;
    if (c === 0x2f) {
      const d = s.charCodeAt(i + 1);
      if (d === 0x2f) return null;
      if (d === 0x2e) {
        const e = s.charCodeAt(i + 2);
        if (isEnd(e) || (e === 0x2e && isEnd(s.charCodeAt(i + 3)))) return null;
      }
    }
  }
  for (let j = q + 1; j < n; j++) {
    c = s.charCodeAt(j);
    if (c <= 0x20 || c >= 0x7f || c === 0x23 || c === 0x25) return null;
  }

  const host = upper ? s.slice(hostStart, hostEnd).toLowerCase() : s.slice(hostStart, hostEnd);
  const path = q > pathStart ? s.slice(pathStart, q) : '/';
  if (upper || q === pathStart) reuse = false;
  const query = q < n ? s.slice(q + 1) : null;
  const href = reuse ? s : `${scheme}://${host}${path}${query === null ? '' : `?${query}`}`;
  let expression: string;
  if (query) expression = reuse ? s.slice(hostStart) : `${host}${path}?${query}`;
  else expression = reuse ? s.slice(hostStart, q) : host + path;
  return { scheme, host, path, query, href, expression, isIp: false };
}
