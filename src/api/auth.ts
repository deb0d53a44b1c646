import type { MiddlewareHandler } from 'hono';
import type { Principal, TokenRole } from '../registry/types.ts';
import { ApiError } from './errors.ts';
import { withMeta } from './route-meta.ts';

export type Authenticate = (token: string) => Principal | null;

/** Hono environment of every authenticated route: the principal behind the bearer token. */
export type AuthEnv = { Variables: { principal: Principal } };

/**
 * Bearer-token check for a route. 401 when the token is missing or unknown, 403 when its role is not among
 * `roles` (an empty list admits every valid token). `admin` passes every check: whoever can mint tokens of any
 * role could act as any role anyway.
 */
export function requireRole(authenticate: Authenticate, ...roles: TokenRole[]): MiddlewareHandler<AuthEnv> {
  return withMeta<MiddlewareHandler<AuthEnv>>(
    async (c, next) => {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
      if (!match?.[1]) {
        c.header('WWW-Authenticate', 'Bearer realm="takedown"');
        throw new ApiError(401, 'unauthorized', 'missing bearer token (Authorization: Bearer <token>)');
      }
      const principal = authenticate(match[1]);
      if (!principal) {
        c.header('WWW-Authenticate', 'Bearer realm="takedown", error="invalid_token"');
        throw new ApiError(401, 'unauthorized', 'unknown or revoked token');
      }
      if (principal.role !== 'admin' && roles.length > 0 && !roles.includes(principal.role)) {
        throw new ApiError(
          403,
          'forbidden',
          `role ${principal.role} may not do this (needs ${roles.join(' or ')})`,
        );
      }
      c.set('principal', principal);
      await next();
    },
    { roles },
  );
}

/** The actor string recorded in the change log for a principal. */
export const actorOf = (p: Principal) => `token:${p.id}:${p.name}`;
