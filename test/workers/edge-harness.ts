/**
 * The edge inside workerd for the tests: its bucket (the local R2 binding of wrangler.toml), signed feeds
 * written to it in the static layout, and requests sent through the Hono app with a real execution context.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeArtifact } from '../../src/core/artifact.ts';
import { type FeedIndex, STATIC_FORMAT } from '../../src/core/static-layout.ts';
import { createEdgeApp } from '../../workers/edge/app.ts';
import type { EdgeEnv } from '../../workers/edge/config.ts';
import { Edge } from '../../workers/edge/edge.ts';
import { FeedStore } from '../../workers/edge/feed-store.ts';

export const bucket = env.FEED_BUCKET;
export const store = new FeedStore(bucket);

/** Empties the bucket (tests of one file share it). */
export async function clearBucket(): Promise<void> {
  const { objects } = await bucket.list({});
  if (objects.length > 0) await bucket.delete(objects.map((o) => o.key));
}

/** Writes a snapshot and deltas and an index.json naming them, as the cron or `takedown publish` would. */
export async function publish(snapshot: Uint8Array, deltas: Uint8Array[] = []): Promise<void> {
  const manifestOf = (bytes: Uint8Array) => {
    const decoded = decodeArtifact(bytes);
    if (!decoded.ok) throw new Error(decoded.error.message);
    return decoded.value.manifest;
  };
  const s = manifestOf(snapshot);
  const listed: FeedIndex['deltas'] = [];
  let version = s.to;
  for (const delta of deltas) {
    const m = manifestOf(delta);
    listed.push({ from: m.from, to: m.to, ...(await store.putArtifact('filter', delta, m)) });
    version = Math.max(version, m.to);
  }
  const stored = await store.putArtifact('filter', snapshot, s);
  await store.putIndex({
    format: STATIC_FORMAT,
    version,
    feeds: { filter: { version, snapshot: { version: s.to, ...stored }, deltas: listed } },
  });
}

/** An edge built from `vars` plus the bucket binding, with a clock the test moves. */
export async function startEdge(vars: EdgeEnv, clock: () => number) {
  const edge = await Edge.create({ FEED_BUCKET: bucket, ...vars }, clock);
  const app = createEdgeApp(edge);
  /** Sends one request and returns its response at once; `settle` waits for its background work. */
  const sendDetached = async (url: string, init: RequestInit = {}) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(url, init), {}, ctx);
    return { response, settle: () => waitOnExecutionContext(ctx) };
  };
  /** Sends one request and waits for its background work (a refresh) too. */
  const send = async (url: string, init: RequestInit = {}) => {
    const { response, settle } = await sendDetached(url, init);
    await settle();
    return response;
  };
  return { edge, send, sendDetached };
}
