import { Hono } from 'hono';
import { type AuthEnv, actorOf, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { unwrap } from '../registry-result.ts';
import { entryQuery, revokeEntryBody } from '../schemas.ts';
import { jsonBody, validate } from '../validate.ts';

/** `/v1/entries`: search the registry; revoke one entry from every order holding it. */
export function entriesRoutes({ registry, authenticate, committed }: AppDeps) {
  return new Hono<AuthEnv>()
    .get('/', requireRole(authenticate, 'regulator', 'auditor'), validate('query', entryQuery), (c) => {
      const { active, ...rest } = c.req.valid('query');
      const page = unwrap(
        registry.listEntries({ ...rest, ...(active === undefined ? {} : { active: active === 'true' }) }),
      );
      return c.json({ entries: page.items, nextCursor: page.nextCursor });
    })
    .post(
      '/revoke',
      requireRole(authenticate, 'regulator'),
      jsonBody,
      validate('json', revokeEntryBody),
      (c) => {
        const { target, reason, release } = c.req.valid('json');
        const outcome = unwrap(
          registry.revokeEntry(target, reason, actorOf(c.get('principal')), { release }),
        );
        committed(outcome.version);
        return c.json(outcome);
      },
    );
}
