/** Safe Browsing path canonicalization: `/./` and `/../` resolved, then runs of slashes collapsed. */

function isSlash(c: number): boolean {
  return c === 0x2f || c === 0x5c;
}

/** True when the path has nothing to resolve (the common case): no `\`, `//`, `.` or `..` segment. */
function isResolved(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 0x5c) return false;
    if (c !== 0x2f) continue;
    const n = p.charCodeAt(i + 1);
    if (n === 0x2f) return false;
    if (n === 0x2e) {
      const n2 = p.charCodeAt(i + 2);
      if (Number.isNaN(n2) || isSlash(n2)) return false;
      if (n2 === 0x2e) {
        const n3 = p.charCodeAt(i + 3);
        if (Number.isNaN(n3) || isSlash(n3)) return false;
      }
    }
  }
  return true;
}

/**
 * Resolves a path that starts with `/` or `\` (a backslash is a slash, as browsers read http URLs).
 * Dots are resolved first, empty segments included (`/a//..` is `/a/`, as RFC 3986 and Chromium do), then
 * empty segments are dropped.
 */
export function resolvePath(p: string): string {
  if (p.charCodeAt(0) === 0x2f && isResolved(p)) return p;
  const segments: string[] = [];
  let directory = false;
  let i = 1;
  for (;;) {
    let j = i;
    while (j < p.length && !isSlash(p.charCodeAt(j))) j++;
    const segment = p.slice(i, j);
    directory = segment === '' || segment === '.' || segment === '..';
    if (segment === '..') segments.pop();
    else if (segment !== '.') segments.push(segment);
    if (j >= p.length) break;
    i = j + 1;
  }
  let out = '';
  for (const segment of segments) if (segment !== '') out += `/${segment}`;
  if (out === '') return '/';
  return directory ? `${out}/` : out;
}
