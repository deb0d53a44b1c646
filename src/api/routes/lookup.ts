import { Hono } from 'hono';
import { lookupExpressions } from '../../core/expressions.ts';
import { canonicalizeUrl } from '../../core/url.ts';
import { enforcementPoints } from '../../feeds/enforcement.ts';
import { DEFAULT_CONFIDENTIAL_CATEGORIES } from '../../feeds/feed-definitions.ts';
import type { Match } from '../../registry/types.ts';
import { type AuthEnv, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { unprocessable } from '../errors.ts';
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

/** `/v1/explain` and `/v1/check`: what the registry says about URLs, with the reasoning behind it. */
export function lookupRoutes({
  registry,
  authenticate,
  confidential = DEFAULT_CONFIDENTIAL_CATEGORIES,
}: AppDeps) {
  const anyToken = requireRole(authenticate);

  return new Hono<AuthEnv>()
    .get('/explain', anyToken, validate('query', explainQuery), (c) => {
      const { target } = c.req.valid('query');
      const url = canonicalizeUrl(target);
      if (!url.ok)
        throw unprocessable(url.error.code, url.error.message, [
          { field: 'target', reason: url.error.message },
        ]);
      const expressions = lookupExpressions(url.value);
      const matches = registry.matchExpressions(expressions);
      return c.json({
        target,
        canonical: url.value.href,
        expressions,
        blocked: matches.length > 0,
        version: registry.currentVersion(),
        matches: matches.map((m) => ({ ...m.entry, orders: m.orders })),
        enforcement: enforcementPoints(
          url.value,
          matches.map((m) => m.entry),
          confidential,
        ),
      });
    })
    .post('/check', anyToken, jsonBody(BODY_LIMITS.check), validate('json', checkBody), (c) => {
      const { targets } = c.req.valid('json');
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
        const matches = t.expressions.flatMap((e) => {
          const m = byExpression.get(e);
          return m ? [summarize(m)] : [];
        });
        return matches.length
          ? { target: t.target, blocked: true, matches }
          : { target: t.target, blocked: false };
      });
      return c.json({ version: registry.currentVersion(), results });
    });
}
