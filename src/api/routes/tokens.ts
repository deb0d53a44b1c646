import { Hono } from 'hono';
import { type AuthEnv, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { unwrap } from '../registry-result.ts';
import { idParam, tokenBody } from '../schemas.ts';
import { validate } from '../validate.ts';

/** `/v1/tokens`: admins mint and revoke API tokens; the token text is returned once and never stored. */
export function tokensRoutes({ registry, authenticate, log }: AppDeps) {
  const admin = requireRole(authenticate, 'admin');
  return new Hono<AuthEnv>()
    .post('/', admin, jsonBody(BODY_LIMITS.small), validate('json', tokenBody), (c) => {
      const { role, name } = c.req.valid('json');
      const created = unwrap(registry.createToken(role, name));
      // The id names the token from now on; its text never reaches a log.
      log?.('token_created', { token: created.id, role, name, actor: c.get('principal').id });
      return c.json({ id: created.id, token: created.token, role, name }, 201);
    })
    .get('/', admin, (c) => c.json({ tokens: registry.listTokens() }))
    .delete('/:id', admin, validate('param', idParam), (c) => {
      const revoked = unwrap(registry.revokeToken(c.req.valid('param').id));
      log?.('token_revoked', { token: revoked.id, name: revoked.name, actor: c.get('principal').id });
      return c.json({ token: revoked });
    });
}
