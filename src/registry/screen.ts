/** Parses a regulator's target and checks it against the safety rails (docs/ARCHITECTURE.md: entries and matching). */

import { registrableDomain } from '../core/host.ts';
import { parseTarget, type Target } from '../core/target.ts';
import type { Failure } from '../core/types.ts';
import type { AcceptedTarget } from './order-writer.ts';
import type { ProtectedDomains } from './protected-domains.ts';
import { strictTargetProblem } from './strict-target.ts';
import type { Rail, TargetResult } from './types.ts';

export type Screened = { ok: true; target: Target; rails: readonly Rail[] } | { ok: false; error: Failure };

const NO_RAILS: readonly Rail[] = Object.freeze([]);

/**
 * True for an input that is already a canonical host name: dot-separated labels of 1..63 characters from
 * [a-z0-9_-], at most 253 in all, the last label starting with a letter (so it cannot be an IPv4 form).
 * Canonicalization leaves such a name as it is, so acceptTarget lets bulk lists of plain names (the common
 * import) skip the URL machinery; test/registry/screen.test.ts checks that it agrees with parseTarget.
 */
export function isCanonicalHostName(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 253) return false;
  let labelStart = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (i === labelStart || i - labelStart > 63) return false;
      labelStart = i + 1;
    } else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95)) {
      return false;
    }
  }
  const first = s.charCodeAt(labelStart);
  return n - labelStart <= 63 && labelStart < n && first >= 97 && first <= 122;
}

/**
 * Strict input first (strict-target.ts: empty labels, bad punycode, U+FFFD). Rails: `ip_literal` for a domain entry on an IP address (DNS cannot block an address by name, and the whole
 * host would go; a URL with a path on an IP host is fine: only HTTP consumers enforce it); `public_suffix` for
 * a domain entry that is a bare public suffix, private ones included (`com`, `co.uk`, `github.io`);
 * `protected_domain` for any entry, domain or URL, on a protected name or below one.
 */
export function screenTarget(input: string, protectedDomains: ProtectedDomains): Screened {
  const strict = strictTargetProblem(input);
  if (strict) return { ok: false, error: strict };
  const parsed = parseTarget(input);
  if (!parsed.ok) return parsed;
  const t = parsed.value;
  let rails: readonly Rail[] = NO_RAILS;
  if (t.kind === 'domain') {
    if (t.isIp) rails = ['ip_literal'];
    else if (t.registrableDomain === null) rails = ['public_suffix'];
  }
  if (protectedDomains.covering(t.host) !== null) rails = [...rails, 'protected_domain'];
  return { ok: true, target: t, rails };
}

/**
 * The write path's screening: the target as it will be written, or, when it does not parse or trips a rail
 * that `overrides` does not allow, its rejection. Same decisions as screenTarget, without building a Target
 * for the plain host names that make up bulk lists.
 */
export function acceptTarget(
  input: string,
  protectedDomains: ProtectedDomains,
  overrides: boolean,
): AcceptedTarget | TargetResult {
  // A punycode label must be checked (strict-target.ts); every other canonical name passes as it is.
  if (isCanonicalHostName(input) && !input.includes('xn--')) {
    let rails: readonly Rail[] = NO_RAILS;
    if (registrableDomain(input) === null) rails = ['public_suffix'];
    if (protectedDomains.covering(input) !== null) rails = [...rails, 'protected_domain'];
    if (rails.length === 0 || overrides) return { expression: `${input}/`, rails };
  }
  const s = screenTarget(input, protectedDomains);
  if (s.ok && (s.rails.length === 0 || overrides)) return { expression: s.target.expression, rails: s.rails };
  return rejection(input, s, protectedDomains);
}

/** A clear message for the first rail a target trips. */
function railMessage(t: Target, rail: Rail, protectedDomains: ProtectedDomains): string {
  switch (rail) {
    case 'ip_literal':
      return `'${t.host}' is an IP address: a domain entry would block every site on it (list a URL with a path, or override)`;
    case 'public_suffix':
      return `'${t.host}' is a public suffix: blocking it would block every site registered under it`;
    case 'protected_domain': {
      const name = protectedDomains.covering(t.host);
      return name === t.host
        ? `'${t.host}' is a protected domain`
        : `'${t.host}' is under the protected domain '${name}'`;
    }
    case 'released':
      return `'${t.expression}' was released as a false positive`;
  }
}

/** The result of a target refused for a parse error or for rails without an override. */
export function rejection(input: string, s: Screened, protectedDomains: ProtectedDomains): TargetResult {
  if (!s.ok) return { target: input, status: 'rejected', code: s.error.code, message: s.error.message };
  const rail = s.rails[0] as Rail;
  return {
    target: input,
    kind: s.target.kind,
    expression: s.target.expression,
    status: 'rejected',
    code: rail,
    message: railMessage(s.target, rail, protectedDomains),
    rails: [...s.rails],
  };
}
