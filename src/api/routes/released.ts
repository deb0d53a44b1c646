import { Hono } from 'hono';
import { type AuthEnv, actorOf, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { unwrap } from '../registry-result.ts';
import { releasedQuery, unreleaseBody } from '../schemas.ts';
import { validate } from '../validate.ts';

/** `/v1/released`: targets revoked as false positives; a regulator may take one off the list (recorded). */
export function releasedRoutes({ registry, authenticate, committed }: AppDeps) {
  return new Hono<AuthEnv>()
    .get('/', requireRole(authenticate, 'regulator', 'auditor'), validate('query', releasedQuery), (c) => {
      const { active, ...rest } = c.req.valid('query');
      const page = unwrap(
        registry.listReleased({ ...rest, ...(active === undefined ? {} : { active: active === 'true' }) }),
      );
      return c.json({ released: page.items, nextCursor: page.nextCursor });
    })
    .post(
      '/unrelease',
      requireRole(authenticate, 'regulator'),
      jsonBody(BODY_LIMITS.small),
      validate('json', unreleaseBody),
      (c) => {
        const { target, reason } = c.req.valid('json');
        const outcome = unwrap(registry.unrelease(target, reason, actorOf(c.get('principal'))));
        committed(outcome.version);
        return c.json(outcome);
      },
    );
}
