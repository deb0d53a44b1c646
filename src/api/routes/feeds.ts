import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { headBits, isKeyWidths, MAX_CONFIRMATION_BITS, MIN_CONFIRMATION_BITS } from '../../core/confirm.ts';
import type { FeedName } from '../../core/types.ts';
import { isFeedName } from '../../feeds/feed-definitions.ts';
import type { DeltaAnswer, FeedService } from '../../feeds/feed-service.ts';
import type { ServedArtifact } from '../../feeds/served-artifact.ts';
import { type Authenticate, requireRole } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { validate } from '../validate.ts';

/** Longest long-poll, in seconds. */
const MAX_WAIT_SECONDS = 60;
/** Most keys one hash search may ask about. */
const MAX_CONFIRM_KEYS = 1000;

/**
 * Caching for a CDN in front of the hub. Artifacts are signed and verified by every consumer, so shared
 * caches may keep them (`public`, despite the bearer token). The latest snapshot may be a minute old (a
 * consumer then takes one more delta); a delta URL answers with a newer artifact after every commit, so
 * caches revalidate it each time (cheap with the ETag).
 */
const SNAPSHOT_CACHE = 'public, max-age=60';
const DELTA_CACHE = 'public, no-cache';

const WIDTHS = `${MIN_CONFIRMATION_BITS} to ${MAX_CONFIRMATION_BITS}`;

const version = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a registry version: a non-negative integer')
  .transform(Number);

const deltaQuery = z.object({
  since: version,
  wait: z
    .string()
    .regex(/^\d{1,2}$/, `must be whole seconds, 0 to ${MAX_WAIT_SECONDS}`)
    .transform(Number)
    .refine((s) => s <= MAX_WAIT_SECONDS, `must be whole seconds, 0 to ${MAX_WAIT_SECONDS}`)
    .optional(),
  bits: z
    .string()
    .regex(/^\d{2},\d{2}$/, `must be key widths root,path, each ${WIDTHS}`)
    .transform((text) => {
      const [root, path] = text.split(',').map(Number) as [number, number];
      return { root, path };
    })
    .refine(isKeyWidths, `must be key widths root,path, each ${WIDTHS}`)
    .optional(),
});

const width = z.number().int().min(MIN_CONFIRMATION_BITS).max(MAX_CONFIRMATION_BITS);
const keyList = z.array(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).max(MAX_CONFIRM_KEYS);

/**
 * The hash search asks with confirmation keys of the consumer's own widths, per key class (what
 * `FilterState.matchingKeys` gives a lean consumer for Bloom hits), not full hashes: the hub answers from its
 * full-width key sets at any width, and a key discloses only `bits` bits of the hash of an expression that
 * already hit the filter.
 */
const confirmBody = z
  .strictObject({
    bits: z.strictObject({ root: width, path: width }),
    keys: z.strictObject({ root: keyList.default([]), path: keyList.default([]) }),
  })
  .superRefine((body, ctx) => {
    const total = body.keys.root.length + body.keys.path.length;
    if (total < 1 || total > MAX_CONFIRM_KEYS) {
      ctx.addIssue({ code: 'custom', path: ['keys'], message: `must hold 1 to ${MAX_CONFIRM_KEYS} keys` });
    }
    for (const cls of ['root', 'path'] as const) {
      body.keys[cls].forEach((key, i) => {
        if (key >= 2 ** headBits(body.bits[cls])) {
          const message = `is not the ${headBits(body.bits[cls])}-bit head of a ${body.bits[cls]}-bit key`;
          ctx.addIssue({ code: 'custom', path: ['keys', cls, i], message });
        }
      });
    }
  });

export interface FeedsRoutesDeps {
  feeds: FeedService;
  authenticate: Authenticate;
}

/**
 * `/v1/feeds` (role distributor): the feed list, the latest snapshot, the delta from a version to the
 * latest with long-polling, and the hash search of memory-short filter consumers.
 */
export function feedsRoutes({ feeds, authenticate }: FeedsRoutesDeps): Hono {
  const app = new Hono();
  app.use(requireRole(authenticate, 'distributor'));
  app.get('/', (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.json({ version: feeds.version, feeds: feeds.feeds() });
  });
  app.get('/:feed/snapshot', async (c) => {
    const feed = feedOf(c);
    const artifact = feeds.snapshot(feed);
    if (!artifact) throw notReady(c);
    return send(c, await artifact, SNAPSHOT_CACHE);
  });
  app.get('/:feed/delta', validate('query', deltaQuery), async (c) => {
    const feed = feedOf(c);
    const { since, wait, bits } = c.req.valid('query');
    if (bits !== undefined && feed !== 'filter') {
      const reason = 'only the filter feed has key widths';
      throw new ApiError(400, 'invalid_request', `bits: ${reason}`, [{ field: 'bits', reason }]);
    }
    let answer = await feeds.delta(feed, since, bits);
    if (answer.kind === 'current' && wait) {
      await feeds.waitForVersion(since, wait * 1000, c.req.raw.signal);
      answer = await feeds.delta(feed, since, bits);
    }
    return answerDelta(c, feed, since, answer);
  });
  app.post('/filter/confirm', jsonBody(BODY_LIMITS.confirm), validate('json', confirmBody), (c) => {
    const { bits, keys } = c.req.valid('json');
    const found = feeds.confirm(bits, keys);
    if (!found) throw notReady(c);
    return c.json({ version: found.version, bits, blocked: found.blocked });
  });
  return app;
}

function answerDelta(
  c: Context,
  feed: FeedName,
  since: number,
  answer: DeltaAnswer,
): Response | Promise<Response> {
  switch (answer.kind) {
    case 'not_ready':
      throw notReady(c);
    case 'current':
      c.header('Cache-Control', DELTA_CACHE);
      c.header('X-Takedown-Version', String(answer.version));
      return c.body(null, 304);
    case 'resync': {
      const status = answer.reason === 'too_old' ? 410 : 409;
      const why =
        answer.reason === 'too_old'
          ? `no delta starts before version ${answer.horizon}`
          : `version ${since} is not a version of this hub (latest ${answer.version})`;
      throw new ApiError(status, 'resync_required', `${why}: fetch the snapshot of feed ${feed}`, {
        feed,
        since,
        version: answer.version,
        oldestDeltaBase: answer.horizon,
        snapshotVersion: answer.snapshotVersion,
        snapshot: c.req.path.replace(/\/delta$/, '/snapshot'),
      });
    }
    case 'artifact':
      return send(c, answer.artifact, DELTA_CACHE);
  }
}

/** Sends an artifact with its ETag, as gzip when the client takes it and it compresses; 304 on a match. */
async function send(c: Context, artifact: ServedArtifact, cacheControl: string): Promise<Response> {
  c.header('Content-Type', 'application/octet-stream');
  c.header('Cache-Control', cacheControl);
  c.header('X-Takedown-Version', String(artifact.manifest.to));
  if (artifact.compressible) c.header('Vary', 'Accept-Encoding');
  c.header('ETag', artifact.etag);
  if (matches(c.req.header('if-none-match'), artifact.etag)) return c.body(null, 304);
  const gzip =
    artifact.compressible && acceptsGzip(c.req.header('accept-encoding')) ? await artifact.gzipped() : null;
  if (gzip) {
    // Each content coding has its own tag; either one names the same artifact for If-None-Match.
    c.header('ETag', `${artifact.etag.slice(0, -1)}-gzip"`);
    c.header('Content-Encoding', 'gzip');
  }
  const body = gzip ?? artifact;
  c.header('Content-Length', String(body.length));
  // A HEAD answer sends no body: opening one would hold a stored file open until it is collected.
  if (c.req.method === 'HEAD') return c.body(null, 200);
  // A snapshot's payload streams from the store; it is gone only if a newer one replaced it meanwhile.
  const stream = await body.open();
  if (!stream) throw notReady(c);
  return c.body(stream, 200);
}

function feedOf(c: Context): FeedName {
  const feed = c.req.param('feed') ?? '';
  if (!isFeedName(feed)) {
    throw new ApiError(404, 'unknown_feed', `no feed "${feed.slice(0, 40)}" (feeds: dns, url, filter)`);
  }
  return feed;
}

function notReady(c: Context): ApiError {
  c.header('Retry-After', '1');
  return new ApiError(503, 'feed_not_ready', 'the hub is building its first snapshots; retry shortly');
}

/** Whether an Accept-Encoding header admits gzip (RFC 9110 section 12.5.3). */
export function acceptsGzip(header: string | undefined): boolean {
  let gzip: boolean | undefined;
  let star = false;
  for (const item of (header ?? '').split(',')) {
    const [coding = '', ...params] = item.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') gzip = accepted;
    else if (coding === '*') star = accepted;
  }
  return gzip ?? star;
}

/** Whether an If-None-Match header names the artifact (any coding's tag, weak or strong, or `*`). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const base = etag.slice(1, -1);
  return header.split(',').some((item) => {
    const tag = item.trim().replace(/^W\//, '');
    return tag === '*' || tag === `"${base}"` || tag === `"${base}-gzip"`;
  });
}
