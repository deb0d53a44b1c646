/** Host names (docs/ARCHITECTURE.md: entries and matching): one canonical form for the hub and every consumer. */

import { getDomain, parse } from 'tldts';
import { escapeBytes, fromByteString, toByteString } from './canon-bytes.ts';
import { endsInNumber, parseIpv4 } from './canon-ipv4.ts';
import { fail, ok, type Result } from './types.ts';

export interface HostInfo {
  host: string;
  isIp: boolean;
  publicSuffix: string | null;
  registrableDomain: string | null;
}

/** A normalized host as URL canonicalization produces it; `host` is ASCII, Safe Browsing-escaped. */
export interface NormalizedHost {
  host: string;
  isIp: boolean;
}

/** `github.io`, `blogspot.com` ... are public suffixes: a regulator must not block all their sites by accident. */
const TLDTS_OPTIONS = {
  allowPrivateDomains: true,
  extractHostname: false,
  validateHostname: false,
  detectIp: false,
  mixedInputs: false,
} as const;

const MAX_LABEL = 63;
const MAX_NAME = 253;

/** Code points that would make `new URL('http://' + host)` parse something other than a host. */
function breaksUrlHost(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x23 || c === 0x25 || c === 0x2f || c === 0x3a || c === 0x3f || c === 0x40)
      return true;
    if (c === 0x5b || c === 0x5c || c === 0x5d || c === 0x7f) return true;
  }
  return false;
}

/** UTS-46 maps these to `.`; mapping them first lets dots be tidied before the URL parser sees them. */
const IDEOGRAPHIC_DOTS = /[\u3002\uff0e\uff61]/g;

/**
 * UTS-46 through the platform's WHATWG URL parser (same in Node and workerd). Returns the ASCII host, or the
 * tidied bytes when the parser refuses the name (they are then escaped like any other bytes).
 */
function idnToAscii(bytes: string): string {
  const decoded = fromByteString(bytes);
  if (decoded === null) return bytes;
  const text = tidyDots(decoded.replace(IDEOGRAPHIC_DOTS, '.'));
  if (text.length === 0 || breaksUrlHost(text)) return toByteString(text);
  try {
    return new URL(`http://${text}/`).hostname;
  } catch {
    return toByteString(text);
  }
}

/** Lower-cases ASCII, strips leading/trailing dots and collapses runs of dots; returns `h` itself when clean. */
function tidyDots(h: string): string {
  let clean = h.charCodeAt(0) !== 46 && h.charCodeAt(h.length - 1) !== 46;
  for (let i = 0; clean && i < h.length; i++) {
    const c = h.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c === 46 && h.charCodeAt(i + 1) === 46)) clean = false;
  }
  if (clean) return h;
  let out = '';
  let pendingDot = false;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c === 46) {
      pendingDot = out.length > 0;
      continue;
    }
    if (pendingDot) out += '.';
    pendingDot = false;
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : h[i];
  }
  return out;
}

function isIpv6Literal(s: string): boolean {
  if (s.length < 4 || s.charCodeAt(s.length - 1) !== 0x5d) return false;
  for (let i = 1; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    const l = c | 0x20;
    if (!((c >= 48 && c <= 58) || c === 46 || (l >= 97 && l <= 102))) return false;
  }
  return true;
}

function normalizeIpv6(bracketed: string): Result<NormalizedHost> {
  if (!isIpv6Literal(bracketed))
    return fail('invalid_host', `invalid IPv6 address '${escapeBytes(bracketed)}'`);
  try {
    const host = new URL(`http://${bracketed}/`).hostname;
    return ok({ host, isIp: true });
  } catch {
    return fail('invalid_host', `invalid IPv6 address '${escapeBytes(bracketed)}'`);
  }
}

/**
 * Normalizes a host given as a fully unescaped byte string: IDN to punycode, lower case, dots tidied,
 * IPv4 in any form to a dotted quad, IPv6 to its WHATWG form, other bytes Safe Browsing-escaped.
 */
export function normalizeHostBytes(bytes: string): Result<NormalizedHost> {
  if (bytes.charCodeAt(0) === 0x5b) return normalizeIpv6(bytes);
  let h = bytes;
  let ascii = true;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c >= 0x80) ascii = false;
    // Outside brackets these would make the host read back as a port or an IPv6 literal.
    else if (c === 0x3a || c === 0x5b || c === 0x5d) {
      return fail('invalid_host', `invalid character '${h[i]}' in host '${escapeBytes(bytes)}'`);
    }
  }
  if (!ascii) h = idnToAscii(h);
  h = tidyDots(h);
  if (h.length === 0) return fail('invalid_host', `host '${escapeBytes(bytes)}' is empty`);
  if (endsInNumber(h)) {
    const ip = parseIpv4(h);
    if (ip === null)
      return fail('invalid_host', `host '${escapeBytes(h)}' is neither a name nor a valid IPv4 address`);
    return ok({ host: ip, isIp: true });
  }
  return ok({ host: escapeBytes(h), isIp: false });
}

function describeBad(host: string, i: number): string {
  if (host.charCodeAt(i) === 0x25) {
    let end = i;
    while (host.charCodeAt(end) === 0x25) end += 3;
    try {
      return `'${decodeURIComponent(host.slice(i, end))}'`;
    } catch {
      return `byte ${host.slice(i, i + 3)}`;
    }
  }
  return `'${host[i]}'`;
}

/** Checks a canonical host (from `normalizeHostBytes`) against DNS rules: [a-z0-9-_] labels of 1..63 octets, <= 253 in all. */
export function checkHostName(host: string, isIp: boolean): Result<string> {
  if (isIp) return ok(host);
  let labelStart = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i < host.length ? host.charCodeAt(i) : 46;
    if (c === 46) {
      if (i - labelStart > MAX_LABEL) {
        return fail(
          'label_too_long',
          `label '${host.slice(labelStart, i)}' of '${host}' is longer than 63 octets`,
        );
      }
      labelStart = i + 1;
    } else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95)) {
      return fail('invalid_character', `invalid character ${describeBad(host, i)} in host '${host}'`);
    }
  }
  if (host.length > MAX_NAME) return fail('name_too_long', `host '${host}' is longer than 253 octets`);
  return ok(host);
}

function isHostInputChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 45 ||
    c === 46 ||
    c === 95 ||
    c >= 0x80
  );
}

/**
 * The canonical form of a bare host name: UTS-46 to punycode (through the WHATWG URL parser, which also folds
 * full-width forms; tldts does neither), lower case, dots tidied (the trailing one removed), labels of 1..63
 * octets in [a-z0-9-_], at most 253 in all; IPv4 in any form as a dotted quad, IPv6 as `[..]`.
 * Fails with `empty`, `invalid_character`, `invalid_host`, `label_too_long` or `name_too_long`.
 */
export function canonicalHost(input: string): Result<string> {
  try {
    const text = input.trim();
    if (text.length === 0) return fail('empty', 'host name is empty');
    if (text.charCodeAt(0) === 0x5b) {
      const v6 = normalizeIpv6(text);
      return v6.ok ? ok(v6.value.host) : v6;
    }
    for (let i = 0; i < text.length; i++) {
      if (!isHostInputChar(text.charCodeAt(i))) {
        return fail('invalid_character', `invalid character '${text[i]}' in host name '${text}'`);
      }
    }
    const n = normalizeHostBytes(toByteString(text));
    if (!n.ok) return n;
    return checkHostName(n.value.host, n.value.isIp);
  } catch (e) {
    return fail('invalid_host', `cannot canonicalize host '${input.slice(0, 100)}': ${String(e)}`);
  }
}

/** True for a canonical host that is an IP literal (canonical names never end in a number). */
function isIpHost(canonicalHost: string): boolean {
  const c = canonicalHost.charCodeAt(canonicalHost.length - 1);
  return canonicalHost.charCodeAt(0) === 0x5b || (c >= 48 && c <= 57 && endsInNumber(canonicalHost));
}

/** Public suffix and registrable domain of a canonical host (tldts, private suffixes such as `github.io` included). */
export function hostInfo(canonicalHost: string): HostInfo {
  if (isIpHost(canonicalHost))
    return { host: canonicalHost, isIp: true, publicSuffix: null, registrableDomain: null };
  const r = parse(canonicalHost, TLDTS_OPTIONS);
  return { host: canonicalHost, isIp: false, publicSuffix: r.publicSuffix, registrableDomain: r.domain };
}

/** The registrable domain of a canonical, non-IP host, or null when the host is itself a public suffix. */
export function registrableDomain(canonicalHost: string): string | null {
  return getDomain(canonicalHost, TLDTS_OPTIONS);
}

/** True when the canonical host is a public suffix on its own (`com`, `co.uk`, `github.io`). */
export function isBarePublicSuffix(canonicalHost: string): boolean {
  if (isIpHost(canonicalHost)) return false;
  return parse(canonicalHost, TLDTS_OPTIONS).domain === null;
}
