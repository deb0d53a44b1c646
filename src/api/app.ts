import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorBody } from '../core/types.ts';
import type { AppDeps } from './deps.ts';
import { ApiError, handleError, handleNotFound } from './errors.ts';
import { openApiRoutes } from './openapi/routes.tsx';
import { requestLog } from './request-log.ts';
import { auditRoutes } from './routes/audit.ts';
import { complianceRoutes } from './routes/compliance.ts';
import { distributorsRoutes } from './routes/distributors.ts';
import { entriesRoutes } from './routes/entries.ts';
import { feedsRoutes } from './routes/feeds.ts';
import { logRoutes } from './routes/log.ts';
import { lookupRoutes } from './routes/lookup.ts';
import { ordersRoutes } from './routes/orders.ts';
import { probesRoutes } from './routes/probes.ts';
import { releasedRoutes } from './routes/released.ts';
import { tokensRoutes } from './routes/tokens.ts';
import { transparencyRoutes } from './routes/transparency.ts';
import { keySetQuery } from './schemas.ts';
import { utf8Query, validate } from './validate.ts';

/** The hub's HTTP API (docs/ARCHITECTURE.md: interfaces). Pure composition: every dependency comes in through `deps`. */
export function createApp(deps: AppDeps) {
  const { registry, metrics } = deps;
  const requests = metrics.counter('takedown_http_requests_total', 'HTTP requests by method and status');

  const app = new Hono();
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.use(async (c, next) => {
    await next();
    requests({ method: c.req.method, status: String(c.res.status) });
  });
  if (deps.log) app.use(requestLog(deps.log) as MiddlewareHandler);
  app.use(utf8Query);
  app.use(
    bodyLimit({
      maxSize: deps.bodyLimit,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `request body exceeds ${deps.bodyLimit} bytes`);
      },
    }),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok', version: registry.currentVersion() }));
  app.get('/readyz', (c) => {
    const corruption = registry.corruption();
    if (corruption !== null) {
      const message = `the registry failed its integrity check (${corruption}); restore it from a backup`;
      // No version: reading the damaged file is what this answer must not depend on.
      return c.json({ status: 'corrupt', ...errorBody('registry_corrupt', message) }, 503);
    }
    const ready = deps.ready();
    return c.json(
      { status: ready ? 'ready' : 'starting', version: registry.currentVersion() },
      ready ? 200 : 503,
    );
  });
  app.get('/metrics', (c) => c.text(metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }));
  app.get('/v1/keys', (c) => c.json({ keys: deps.publicKeys() }));
  app.get('/v1/keys/keyset', validate('query', keySetQuery), async (c) => {
    const { version } = c.req.valid('query');
    const keySet = await deps.keySet(version);
    if (!keySet) {
      throw new ApiError(
        404,
        'no_keyset',
        version === undefined
          ? 'no key rotation has happened: trust the keys of GET /v1/keys'
          : `key set ${version} does not exist`,
      );
    }
    return c.body(keySet as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' });
  });

  app.route('/v1/tokens', tokensRoutes(deps));
  app.route('/v1/orders', ordersRoutes(deps));
  app.route('/v1/entries', entriesRoutes(deps));
  app.route('/v1/released', releasedRoutes(deps));
  app.route('/v1', lookupRoutes(deps));
  app.route('/v1/audit', auditRoutes(deps));
  app.route('/v1/distributors', distributorsRoutes(deps));
  app.route('/v1/feeds', feedsRoutes(deps));
  app.route('/v1/probes', probesRoutes(deps));
  app.route('/v1/compliance', complianceRoutes(deps));
  app.route('/v1/log', logRoutes(deps));
  app.route('/', transparencyRoutes(deps));
  app.route(
    '/',
    openApiRoutes(() => app.routes),
  );
  return app;
}
