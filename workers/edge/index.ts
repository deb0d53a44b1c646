/**
 * The edge worker's entry (wrangler `main`): one {@link Edge} per isolate, built from the environment on
 * first use; `fetch` checks and proxies requests, `scheduled` (the cron) pulls new artifacts into the bucket.
 */
import type { ExecutionContext } from 'hono';
import { createEdgeApp } from './app.ts';
import type { EdgeEnv } from './config.ts';
import { Edge, type WaitUntil } from './edge.ts';

interface Isolate {
  edge: Edge;
  app: ReturnType<typeof createEdgeApp>;
}

let isolate: Promise<Isolate> | undefined;

function build(env: EdgeEnv): Promise<Isolate> {
  isolate ??= Edge.create(env).then((edge) => ({ edge, app: createEdgeApp(edge) }));
  return isolate;
}

export default {
  async fetch(request: Request, env: EdgeEnv, ctx: ExecutionContext) {
    const { app } = await build(env);
    return app.fetch(request, env, ctx);
  },

  async scheduled(_controller: unknown, env: EdgeEnv, ctx: WaitUntil) {
    const { edge } = await build(env);
    ctx.waitUntil(edge.pull());
  },
};
