/** Parses a regulator's target and checks it against the safety rails (DESIGN section 2). */

import { parseTarget, type Target } from '../core/target.ts';
import type { Failure } from '../core/types.ts';
import type { ProtectedDomains } from './protected-domains.ts';
import type { Rail, TargetResult } from './types.ts';

export type Screened = { ok: true; target: Target; rails: Rail[] } | { ok: false; error: Failure };

/**
 * Rails: `ip_literal` for a domain entry on an IP address (DNS cannot block an address by name, and the whole
 * host would go; a URL with a path on an IP host is fine: only HTTP consumers enforce it); `public_suffix` for
 * a domain entry that is a bare public suffix, private ones included (`com`, `co.uk`, `github.io`);
 * `protected_domain` for any entry, domain or URL, on a protected name or below one.
 */
export function screenTarget(input: string, protectedDomains: ProtectedDomains): Screened {
  const parsed = parseTarget(input);
  if (!parsed.ok) return parsed;
  const t = parsed.value;
  const rails: Rail[] = [];
  if (t.kind === 'domain') {
    if (t.isIp) rails.push('ip_literal');
    else if (t.registrableDomain === null) rails.push('public_suffix');
  }
  if (protectedDomains.covering(t.host) !== null) rails.push('protected_domain');
  return { ok: true, target: t, rails };
}

/** A clear message for the first rail a target trips. */
export function railMessage(t: Target, rail: Rail, protectedDomains: ProtectedDomains): string {
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
    rails: s.rails,
  };
}
