import { Hono } from 'hono';
import { type AuthEnv, actorOf, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { unwrap } from '../registry-result.ts';
import { entryQuery, revokeEntryBody } from '../schemas.ts';
import { validate } from '../validate.ts';

/** `/v1/entries`: search the registry; revoke one entry from every order holding it. */
export function entriesRoutes({ registry, authenticate, committed, log }: AppDeps) {
  return new Hono<AuthEnv>()
    .get('/', requireRole(authenticate, 'regulator', 'auditor'), validate('query', entryQuery), async (c) => {
      const { active, ...rest } = c.req.valid('query');
      const page = unwrap(
        await registry.searchEntries({
          ...rest,
          ...(active === undefined ? {} : { active: active === 'true' }),
        }),
      );
      return c.json({ entries: page.items, nextCursor: page.nextCursor });
    })
    .post(
      '/revoke',
      requireRole(authenticate, 'regulator'),
      jsonBody(BODY_LIMITS.small),
      validate('json', revokeEntryBody),
      (c) => {
        const { target, reason, release } = c.req.valid('json');
        const principal = c.get('principal');
        const outcome = unwrap(registry.revokeEntry(target, reason, actorOf(principal), { release }));
        committed(outcome.version);
        log?.('entry_revoked', { entry: outcome.entry.id, version: outcome.version, actor: principal.id });
        return c.json(outcome);
      },
    );
}
