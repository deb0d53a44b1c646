import type { MiddlewareHandler } from 'hono';
import type { JsonLog } from '../util/json-log.ts';
import type { AuthEnv } from './auth.ts';

/** Answered often by machines (load balancers, scrapers); logged only when they fail. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One `request` line per answered request: method, path (no query), status, duration and the token id of the
 * caller when its token was accepted. Never a header: the bearer token stays out of the log.
 */
export function requestLog(log: JsonLog): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const path = c.req.path;
    if (c.res.status === 200 && QUIET_PATHS.has(path)) return;
    // Set by the route's token check; unset on public routes and refused tokens.
    const principal = c.get('principal') as AuthEnv['Variables']['principal'] | undefined;
    log('request', {
      method: c.req.method,
      path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      actor: principal?.id,
    });
  };
}
