/**
 * The edge's HTTP surface. Everything is proxied except the reserved prefix `/.takedown/`, which no
 * proxied site is expected to use (a dot-segment name, like `/.well-known/`):
 *
 *   GET /.takedown/check?url=URL   JSON verdict for URL, with the order reference when it is blocked
 *   GET /.takedown/status          this isolate's feed version, freshness and last refresh
 *   *   anything else              451 when its URL is blocked, else passed to the origin unchanged
 */
import { Hono } from 'hono';
import { errorBody } from '../../src/core/types.ts';
import { blockedResponse, ORDERS_UNAVAILABLE } from './block-page.ts';
import type { Edge, WaitUntil } from './edge.ts';
import { verdictOf } from './verdict.ts';

const RESERVED_PREFIX = '/.takedown';
/** Set on responses passed while no valid feed has loaded and FAIL_MODE is open. */
export const WARNING_HEADER = 'x-takedown-warning';

const UNFILTERED = 'unfiltered: no valid takedown feed has loaded';

/** The Hono app serving `edge`; `c.executionCtx` carries the background refreshes. */
export function createEdgeApp(edge: Edge) {
  const app = new Hono();

  app.get(`${RESERVED_PREFIX}/check`, async (c) => {
    const url = c.req.query('url');
    if (!url) return c.json(errorBody('missing_url', 'query parameter "url" is required'), 400);
    const state = await edge.ready(c.executionCtx as WaitUntil);
    if (!state) return c.json(errorBody('feed_unavailable', UNFILTERED), 503);
    const verdict = verdictOf(state, url);
    if (!verdict.ok) return c.json(errorBody(verdict.error.code, verdict.error.message), 422);
    const version = edge.version as number;
    const body = {
      url,
      canonical: verdict.canonical.href,
      blocked: verdict.blocked,
      feedVersion: version,
      fresh: edge.isFresh(),
    };
    if (!verdict.blocked) return c.json(body);
    const orders = await edge.orders.orders(verdict.canonical.href, version, edge.now());
    return c.json({ ...body, orders: orders ?? [], ...(orders ? {} : { ordersNote: ORDERS_UNAVAILABLE }) });
  });

  app.get(`${RESERVED_PREFIX}/status`, (c) => c.json(edge.status(), 200, { 'cache-control': 'no-store' }));

  app.all('*', async (c) => {
    const request = c.req.raw;
    const settings = edge.settings;
    const state = await edge.ready(c.executionCtx as WaitUntil);
    if (!state) {
      if (edge.failMode === 'closed') {
        return c.json(errorBody('feed_unavailable', 'no valid takedown feed has loaded yet'), 503, {
          'retry-after': '30',
          'cache-control': 'no-store',
        });
      }
      const passed = await forward(request, edge.origin);
      const response = new Response(passed.body, passed);
      response.headers.set(WARNING_HEADER, UNFILTERED);
      return response;
    }
    const verdict = verdictOf(state, request.url);
    if (!verdict.ok || !verdict.blocked || !settings) return forward(request, edge.origin);
    const version = edge.version as number;
    const orders = await edge.orders.orders(verdict.canonical.href, version, edge.now());
    return blockedResponse(
      {
        url: request.url,
        blockedBy: settings.blockedBy,
        appealUrl: settings.appealUrl,
        orders,
        feedVersion: version,
      },
      request,
    );
  });

  return app;
}

/** The request as it came, to its own URL or, with ORIGIN set, to the same path on that origin. */
function forward(request: Request, origin: URL | null): Promise<Response> {
  // Redirects go back to the client as the origin sent them.
  if (!origin) return fetch(request, { redirect: 'manual' });
  const url = new URL(request.url);
  url.protocol = origin.protocol;
  url.host = origin.host;
  return fetch(new Request(url, request), { redirect: 'manual' });
}
