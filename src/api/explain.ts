import { lookupExpressions } from '../core/expressions.ts';
import type { Category, Result } from '../core/types.ts';
import { canonicalizeUrl } from '../core/url.ts';
import { enforcementPoints } from '../feeds/enforcement.ts';
import type { Registry } from '../registry/registry.ts';

/**
 * Why a target is blocked or not: its canonical URL, lookup expressions, the matching entries with their orders
 * and the enforcement points that block it; `GET /v1/explain` and the console's explain form. `visible` hides
 * matches of categories the caller may not see (and then the enforcement points, which name them); `history`
 * adds every order that ever held a matching expression.
 */
export function explainTarget(
  registry: Registry,
  target: string,
  confidential: readonly Category[],
  visible: (category: Category) => boolean,
  history: boolean,
) {
  const url = canonicalizeUrl(target);
  if (!url.ok) return url satisfies Result<never>;
  const expressions = lookupExpressions(url.value);
  const matches = registry.matchExpressions(expressions);
  const reply = {
    target,
    canonical: url.value.href,
    expressions,
    blocked: matches.length > 0,
    version: registry.currentVersion(),
    matches: matches.filter((m) => visible(m.entry.category)).map((m) => ({ ...m.entry, orders: m.orders })),
  };
  const hidden = matches.some((m) => !visible(m.entry.category));
  const enforcement = hidden
    ? {}
    : {
        enforcement: enforcementPoints(
          url.value,
          matches.map((m) => m.entry),
          confidential,
        ),
      };
  return {
    ok: true as const,
    value: {
      ...reply,
      ...enforcement,
      ...(history ? { history: registry.entryHistories(expressions) } : {}),
    },
  };
}
