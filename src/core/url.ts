/** Google Safe Browsing v4 URL canonicalization (docs/ARCHITECTURE.md: entries and matching). */

import { escapeBytes, needsEscape, toByteString, unescapeRepeatedly } from './canon-bytes.ts';
import { fastCanonicalUrl } from './canon-fast-url.ts';
import { resolvePath } from './canon-path.ts';
import { normalizeHostBytes } from './host.ts';
import { fail, ok, type Result } from './types.ts';

export interface CanonicalUrl {
  scheme: string;
  host: string;
  path: string;
  query: string | null;
  /** scheme://host/path[?query] */
  href: string;
  /** host/path[?query] */
  expression: string;
  isIp: boolean;
}

/** Browsers refuse far shorter URLs; the bound keeps a hostile input from costing much. */
const MAX_URL_LENGTH = 65536;

function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}...` : s;
}

/** Tab, CR and LF are dropped, then everything from the first `#` (the fragment). */
function stripControlsAndFragment(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x23) return out + s.slice(last, i);
    if (c === 0x09 || c === 0x0a || c === 0x0d) {
      out += s.slice(last, i);
      last = i + 1;
    }
  }
  return last === 0 ? s : out + s.slice(last);
}

/** Index of the `:` ending a syntactically valid scheme at the start of `s`, or -1. */
function schemeColon(s: string): number {
  const first = s.charCodeAt(0) | 0x20;
  if (first < 97 || first > 122) return -1;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3a) return i;
    const l = c | 0x20;
    if (!((l >= 97 && l <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return -1;
  }
  return -1;
}

function isSeparator(c: number): boolean {
  return c === 0x2f || c === 0x5c || c === 0x3f;
}

/** `name:8080/...` (or `name.tld:` at the end) is a host and port, not a scheme. */
function isPortAt(s: string, colon: number): boolean {
  let i = colon + 1;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isSeparator(c)) break;
    if (c < 48 || c > 57) return false;
  }
  return i > colon + 1 || s.lastIndexOf('.', colon) !== -1;
}

function isDigits(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `http` or `https` when `s` starts with one of them (any case) and its colon, else null. */
function httpScheme(s: string, colon: number): string | null {
  if (colon !== 4 && colon !== 5) return null;
  if ((s.charCodeAt(0) | 0x20) !== 104 || (s.charCodeAt(1) | 0x20) !== 116) return null;
  if ((s.charCodeAt(2) | 0x20) !== 116 || (s.charCodeAt(3) | 0x20) !== 112) return null;
  if (colon === 4) return 'http';
  return (s.charCodeAt(4) | 0x20) === 115 ? 'https' : null;
}

function canonicalize(input: string): Result<CanonicalUrl> {
  if (input.length > MAX_URL_LENGTH) return fail('too_long', `URL of ${input.length} characters is too long`);
  const fast = fastCanonicalUrl(input);
  if (fast !== null) return ok(fast);
  let start = 0;
  let end = input.length;
  while (start < end && input.charCodeAt(start) <= 0x20) start++;
  while (end > start && input.charCodeAt(end - 1) <= 0x20) end--;
  if (start === end) return fail('empty', 'URL is empty');
  let s = start === 0 && end === input.length ? input : input.slice(start, end);

  // Most URLs need none of the byte-level work: skip it unless a byte asks for it.
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    if (needsEscape(s.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (!plain) s = unescapeRepeatedly(toByteString(stripControlsAndFragment(s)));

  let scheme = 'http';
  let pos = 0;
  const colon = schemeColon(s);
  if (colon > 0) {
    const known = httpScheme(s, colon);
    if (known !== null) {
      scheme = known;
      pos = colon + 1;
      while (pos < s.length && (s.charCodeAt(pos) === 0x2f || s.charCodeAt(pos) === 0x5c)) pos++;
    } else if (!isPortAt(s, colon)) {
      const name = s.slice(0, colon).toLowerCase();
      return fail(
        'unsupported_scheme',
        `unsupported scheme '${clip(name)}' in '${clip(input)}' (only http and https)`,
      );
    }
  } else if (s.charCodeAt(0) === 0x2f && s.charCodeAt(1) === 0x2f) {
    pos = 2;
  }

  let authEnd = pos;
  let at = -1;
  let portColon = -1;
  for (; authEnd < s.length; authEnd++) {
    const c = s.charCodeAt(authEnd);
    if (c === 0x2f || c === 0x3f || c === 0x5c) break;
    if (c === 0x40) {
      at = authEnd;
      portColon = -1;
    } else if (c === 0x3a) portColon = authEnd;
  }
  const hostStart = at === -1 ? pos : at + 1;
  let hostEnd = authEnd;
  if (s.charCodeAt(hostStart) === 0x5b) {
    const close = s.indexOf(']', hostStart);
    if (close < 0 || close >= authEnd)
      return fail('invalid_host', `unterminated IPv6 address in '${clip(input)}'`);
    hostEnd = close + 1;
    if (hostEnd < authEnd && (s.charCodeAt(hostEnd) !== 0x3a || !isDigits(s, hostEnd + 1, authEnd))) {
      return fail('invalid_port', `invalid port in '${clip(input)}'`);
    }
  } else if (portColon !== -1) {
    if (!isDigits(s, portColon + 1, authEnd)) return fail('invalid_port', `invalid port in '${clip(input)}'`);
    hostEnd = portColon;
  }
  if (hostEnd === hostStart) return fail('invalid_host', `no host in '${clip(input)}'`);
  const h = normalizeHostBytes(s.slice(hostStart, hostEnd));
  if (!h.ok) return h;
  const { host, isIp } = h.value;

  let path = '/';
  let query: string | null = null;
  if (authEnd < s.length) {
    const q = s.charCodeAt(authEnd) === 0x3f ? authEnd : s.indexOf('?', authEnd);
    if (q === -1) path = resolvePath(s.slice(authEnd));
    else {
      if (q > authEnd) path = resolvePath(s.slice(authEnd, q));
      query = s.slice(q + 1);
    }
  }
  if (!plain) {
    path = escapeBytes(path);
    if (query !== null) query = escapeBytes(query);
  }
  const tail = query === null ? path : `${path}?${query}`;
  return ok({
    scheme,
    host,
    path,
    query,
    href: `${scheme}://${host}${tail}`,
    expression: query ? host + tail : host + path,
    isIp,
  });
}

/** Google Safe Browsing v4 canonicalization. Input may lack a scheme (then http). Never throws. */
export function canonicalizeUrl(input: string): Result<CanonicalUrl> {
  try {
    return canonicalize(input);
  } catch (e) {
    return fail('invalid_url', `cannot canonicalize '${clip(String(input))}': ${String(e)}`);
  }
}
