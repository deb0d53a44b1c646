import { Hono } from 'hono';
import { lookupExpressions } from '../../core/expressions.ts';
import type { Category } from '../../core/types.ts';
import { canonicalizeUrl } from '../../core/url.ts';
import type { Match, Principal } from '../../registry/types.ts';
import { type AuthEnv, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { unprocessable } from '../errors.ts';
import { explainTarget } from '../explain.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { checkBody, explainQuery } from '../schemas.ts';
import { validate } from '../validate.ts';

const summarize = (m: Match) => ({
  expression: m.entry.expression,
  kind: m.entry.kind,
  category: m.entry.category,
  action: m.entry.action,
  orders: m.orders.map((o) => ({ id: o.id, reference: o.reference, authority: o.authority })),
});

/**
 * Distributors enforce what the feeds give them; for a confidential category (csam by default) the feeds keep
 * the list hashed, and the answers here must not undo that: such a match tells a distributor `blocked` and
 * nothing more (no category, reference or authority). Regulators, auditors and admins see everything.
 */
const seesConfidential = (p: Principal) => p.role !== 'distributor';

/** `/v1/explain` and `/v1/check`: what the registry says about URLs, with the reasoning behind it. */
export function lookupRoutes({ registry, authenticate, confidentialCategories }: AppDeps) {
  const anyToken = requireRole(authenticate);
  const shown = (p: Principal) => {
    const all = seesConfidential(p);
    return (category: Category) => all || !confidentialCategories.includes(category);
  };

  return new Hono<AuthEnv>()
    .get('/explain', anyToken, validate('query', explainQuery), (c) => {
      const principal = c.get('principal');
      const { target } = c.req.valid('query');
      const explained = explainTarget(
        registry,
        target,
        confidentialCategories,
        shown(principal),
        seesConfidential(principal),
      );
      if (!explained.ok)
        throw unprocessable(explained.error.code, explained.error.message, [
          { field: 'target', reason: explained.error.message },
        ]);
      return c.json(explained.value);
    })
    .post('/check', anyToken, jsonBody(BODY_LIMITS.check), validate('json', checkBody), (c) => {
      const { targets } = c.req.valid('json');
      const visible = shown(c.get('principal'));
      // One registry query for the whole batch: expressions repeat a lot across URLs of one batch.
      const perTarget = targets.map((target) => {
        const url = canonicalizeUrl(target);
        return url.ok ? { target, expressions: lookupExpressions(url.value) } : { target, error: url.error };
      });
      const all = new Set<string>();
      for (const t of perTarget) for (const e of t.expressions ?? []) all.add(e);
      const byExpression = new Map(registry.matchExpressions([...all]).map((m) => [m.entry.expression, m]));
      const results = perTarget.map((t) => {
        if (!t.expressions) return { target: t.target, blocked: false, error: t.error };
        const found = t.expressions.flatMap((e) => {
          const m = byExpression.get(e);
          return m ? [m] : [];
        });
        if (found.length === 0) return { target: t.target, blocked: false };
        const matches = found.filter((m) => visible(m.entry.category)).map(summarize);
        return matches.length
          ? { target: t.target, blocked: true, matches }
          : { target: t.target, blocked: true };
      });
      return c.json({ version: registry.currentVersion(), results });
    });
}
