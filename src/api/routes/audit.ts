import { Hono } from 'hono';
import { type AuthEnv, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { unwrap } from '../registry-result.ts';
import { auditQuery } from '../schemas.ts';
import { validate } from '../validate.ts';

/** `/v1/audit`: the hash-chained change log and its verification. */
export function auditRoutes({ registry, authenticate, threads }: AppDeps) {
  const auditor = requireRole(authenticate, 'auditor');
  return new Hono<AuthEnv>()
    .get('/', auditor, validate('query', auditQuery), (c) => {
      const { after, version, limit } = c.req.valid('query');
      const page = unwrap(registry.listChanges({ afterSeq: after, version, limit }));
      return c.json({ changes: page.items, nextAfter: page.nextAfterSeq });
    })
    .get('/verify', auditor, async (c) =>
      c.json(threads ? await threads.verifyChain() : registry.verifyChain()),
    );
}
