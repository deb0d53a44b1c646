import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { handleError } from '../../src/api/errors.ts';
import { acceptsGzip, feedsRoutes } from '../../src/api/routes/feeds.ts';
import { payloadOffsetOf } from '../../src/core/artifact.ts';
import { createFeedConsumer } from '../../src/core/consumer.ts';
import { decodeFilterDelta, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { FeedService } from '../../src/feeds/feed-service.ts';
import { MemoryArtifactStore } from '../../src/feeds/memory-artifact-store.ts';
import type { TokenRole } from '../../src/registry/types.ts';
import { Metrics } from '../../src/util/prometheus.ts';
import { openTestHub, type TestHub, type TestHubOptions } from '../feeds/feed-hub.ts';

// /v1/feeds (docs/ARCHITECTURE.md: interfaces): role distributor; artifacts verified by a real consumer.

interface FeedsApp {
  hub: TestHub;
  app: Hono;
  tokens: Record<TokenRole, string>;
  get(path: string, as?: TokenRole | null, headers?: Record<string, string>): Promise<Response>;
  post(path: string, body: unknown, as?: TokenRole): Promise<Response>;
}

const open: TestHub[] = [];
afterEach(async () => {
  for (const hub of open.splice(0)) await hub.close();
});

async function feedsApp(options: TestHubOptions = {}): Promise<FeedsApp> {
  const hub = await openTestHub(options);
  open.push(hub);
  const authenticate = (token: string) => hub.registry.authenticate(token);
  const app = createApp({
    registry: hub.registry,
    authenticate,
    metrics: new Metrics(),
    committed: (version) => hub.service.committed(version),
    publicKeys: () => [],
    keySet: async () => null,
    ready: () => hub.service.ready(),
    confidentialCategories: ['csam'],
    bodyLimit: 1 << 20,
    feeds: hub.service,
  });
  const tokens = {} as Record<TokenRole, string>;
  for (const role of ['admin', 'regulator', 'auditor', 'distributor'] as const) {
    const created = hub.registry.createToken(role, `test-${role}`);
    if (!created.ok) throw new Error(created.error.message);
    tokens[role] = created.value.token;
  }
  const auth = (as: TokenRole | null): Record<string, string> =>
    as ? { authorization: `Bearer ${tokens[as]}` } : {};
  return {
    hub,
    app,
    tokens,
    get: async (path, as = 'distributor', headers = {}) =>
      app.request(path, { headers: { ...auth(as), ...headers } }),
    post: async (path, body, as = 'distributor') =>
      app.request(path, {
        method: 'POST',
        headers: { ...auth(as), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
  };
}

const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());

async function expectError(response: Response, status: number, code: string, field?: string) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: { code: string; details?: unknown } };
  expect(body.error.code).toBe(code);
  if (field) expect(body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  return body.error;
}

describe('GET /v1/feeds (happy)', () => {
  it('lists the feeds with their latest and snapshot versions', async () => {
    const t = await feedsApp();
    await t.hub.order('malware', ['listed.example']);
    const response = await t.get('/v1/feeds');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      version: 1,
      feeds: [
        { feed: 'dns', encoding: 'plain', version: 1, snapshotVersion: 0, oldestDeltaBase: 0, entryCount: 1 },
        { feed: 'url', encoding: 'plain', version: 1, snapshotVersion: 0, oldestDeltaBase: 0, entryCount: 1 },
        {
          feed: 'filter',
          encoding: 'hashed',
          version: 1,
          snapshotVersion: 0,
          oldestDeltaBase: 0,
          entryCount: 1,
          bits: { root: expect.any(Number), path: expect.any(Number) },
        },
      ],
    });
  });

  it('serves snapshot and delta artifacts that a consumer verifies up to the latest version', async () => {
    const t = await feedsApp();
    await t.hub.order('phishing', ['bank-login.example', 'http://phish.example/login']);
    const consumer = createFeedConsumer('url', [t.hub.key.publicKey]);
    const snapshot = await t.get('/v1/feeds/url/snapshot');
    expect(snapshot.status).toBe(200);
    expect(snapshot.headers.get('content-type')).toBe('application/octet-stream');
    expect(snapshot.headers.get('cache-control')).toBe('public, max-age=60');
    expect(snapshot.headers.get('x-takedown-version')).toBe('0');
    expect(await consumer.apply(await bytesOf(snapshot), Date.now())).toMatchObject({
      ok: true,
      value: { to: 0 },
    });

    const delta = await t.get('/v1/feeds/url/delta?since=0');
    expect(delta.status).toBe(200);
    expect(delta.headers.get('cache-control')).toBe('public, no-cache');
    expect(delta.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await consumer.apply(await bytesOf(delta), Date.now())).toMatchObject({
      ok: true,
      value: { kind: 'delta', from: 0, to: 1, entryCount: 2 },
    });
    expect(consumer.state?.isBlocked(['phish.example/login'])).toBe(true);
  });

  it('answers 304 when the consumer is current or already holds the artifact (If-None-Match)', async () => {
    const t = await feedsApp();
    await t.hub.order('malware', ['etag.example']);
    const current = await t.get('/v1/feeds/dns/delta?since=1');
    expect(current.status).toBe(304);
    expect(current.headers.get('x-takedown-version')).toBe('1');
    expect(await current.text()).toBe('');

    const first = await t.get('/v1/feeds/dns/delta?since=0');
    const etag = first.headers.get('etag') as string;
    const again = await t.get('/v1/feeds/dns/delta?since=0', 'distributor', {
      'if-none-match': `"other", ${etag}`,
    });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    const snapshot = await t.get('/v1/feeds/dns/snapshot');
    // An in-process request has no socket to close: the unread payload stream is cancelled by hand.
    await snapshot.body?.cancel();
    const snapshotTag = snapshot.headers.get('etag') as string;
    expect(
      (await t.get('/v1/feeds/dns/snapshot', 'distributor', { 'if-none-match': `W/${snapshotTag}` })).status,
    ).toBe(304);
    const other = await t.get('/v1/feeds/dns/snapshot', 'distributor', { 'if-none-match': etag });
    expect(other.status).toBe(200);
    await other.body?.cancel();
  });

  it('gzips plain feeds for clients that accept it, never the incompressible filter feed', async () => {
    const t = await feedsApp();
    await t.hub.order(
      'gambling',
      Array.from({ length: 200 }, (_, i) => `casino-${i}.example`),
    );
    await t.hub.service.rebuildSnapshots();
    for (const path of ['/v1/feeds/url/snapshot', '/v1/feeds/dns/delta?since=0']) {
      const plain = await bytesOf(await t.get(path));
      const gzipped = await t.get(path, 'distributor', { 'accept-encoding': 'br;q=1, gzip;q=0.5' });
      expect(gzipped.headers.get('content-encoding')).toBe('gzip');
      expect(gzipped.headers.get('vary')).toBe('Accept-Encoding');
      expect(gzipped.headers.get('etag')).toMatch(/-gzip"$/);
      const body = await bytesOf(gzipped);
      expect(body.length).toBeLessThan(plain.length / 2);
      expect(Buffer.from(gunzipSync(body)).equals(plain)).toBe(true);
      // The coding's tag names the same artifact.
      const tag = gzipped.headers.get('etag') as string;
      expect((await t.get(path, 'distributor', { 'if-none-match': tag })).status).toBe(304);
    }
    const filter = await t.get('/v1/feeds/filter/snapshot', 'distributor', { 'accept-encoding': 'gzip' });
    expect(filter.headers.get('content-encoding')).toBeNull();
    expect(filter.headers.get('vary')).toBeNull();
    await filter.body?.cancel();
    const refused = await t.get('/v1/feeds/url/snapshot', 'distributor', {
      'accept-encoding': 'gzip;q=0, *',
    });
    expect(refused.headers.get('content-encoding')).toBeNull();
    await refused.body?.cancel();
  });

  it('answers a long-poll the moment a newer version is committed, with that version', async () => {
    const t = await feedsApp();
    let answeredAt = 0;
    const polling = t.get('/v1/feeds/dns/delta?since=0&wait=30').then((response) => {
      answeredAt = Date.now();
      return response;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answeredAt).toBe(0);
    const committedAt = Date.now();
    const order = await t.post(
      '/v1/orders',
      { reference: 'LP/1', authority: 'Test Authority', category: 'botnet', targets: ['c2.example'] },
      'regulator',
    );
    expect(order.status).toBe(201);
    const response = await polling;
    expect(response.status).toBe(200);
    expect(response.headers.get('x-takedown-version')).toBe('1');
    // The contract: within one second of the commit (generous on loopback).
    expect(answeredAt - committedAt).toBeLessThan(1000);
    const consumer = createFeedConsumer('dns', [t.hub.key.publicKey]);
    await consumer.apply(await bytesOf(await t.get('/v1/feeds/dns/snapshot')), Date.now());
    expect(await consumer.apply(await bytesOf(response), Date.now())).toMatchObject({
      ok: true,
      value: { to: 1 },
    });
  });

  it('ends an unanswered long-poll with 304 when the wait is over', async () => {
    const t = await feedsApp();
    const response = await t.get('/v1/feeds/url/delta?since=0&wait=1');
    expect(response.status).toBe(304);
  });

  it('confirms which confirmation keys are blocked (hash search)', async () => {
    const t = await feedsApp();
    await t.hub.order('csam', ['hidden.example', 'http://other.example/hidden/page']);
    const bits = { root: 40, path: 42 };
    const expressions = ['hidden.example/', 'other.example/hidden/page'];
    const snapshot = await encodeFilterSnapshot(expressions, { fpr: 1e-6, bits });
    const state = FilterState.fromSnapshot(snapshot.payload);
    if (!state.ok) throw new Error(state.error.message);
    const keys = state.value.matchingKeys(expressions);
    const response = await t.post('/v1/feeds/filter/confirm', {
      bits,
      keys: { root: [...keys.root, 7], path: [...keys.path, 8] },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ version: 1, bits, blocked: keys });
    const onlyRoot = await t.post('/v1/feeds/filter/confirm', { bits, keys: { root: keys.root } });
    expect(await onlyRoot.json()).toEqual({ version: 1, bits, blocked: { root: keys.root, path: [] } });
  });

  it('serves a filter delta at the key widths a consumer names', async () => {
    const t = await feedsApp();
    await t.hub.order('malware', ['named.example']);
    const response = await t.get('/v1/feeds/filter/delta?since=0&bits=40,44');
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const payload = bytes.subarray(payloadOffsetOf(bytes));
    const delta = decodeFilterDelta(payload);
    if (!delta.ok) throw new Error(delta.error.message);
    expect(delta.value.bits).toEqual({ root: 40, path: 44 });
    expect(delta.value.added.root.keys).toHaveLength(1);
  });
});

describe('/v1/feeds (errors)', () => {
  it('tells a consumer older than the retained snapshots, or ahead of the hub, to resync', async () => {
    const t = await feedsApp({ options: { keepSnapshots: 1 } });
    await t.hub.order('malware', ['one.example']);
    await t.hub.service.rebuildSnapshots();
    await t.hub.order('malware', ['two.example']);
    const old = await expectError(await t.get('/v1/feeds/url/delta?since=0'), 410, 'resync_required');
    expect(old.details).toEqual({
      feed: 'url',
      since: 0,
      version: 2,
      oldestDeltaBase: 1,
      snapshotVersion: 1,
      snapshot: '/v1/feeds/url/snapshot',
    });
    const ahead = await expectError(await t.get('/v1/feeds/url/delta?since=9'), 409, 'resync_required');
    expect(ahead.details).toMatchObject({ since: 9, version: 2 });
  });

  it('404 unknown_feed for a feed that does not exist', async () => {
    const t = await feedsApp();
    await expectError(await t.get('/v1/feeds/rpz/snapshot'), 404, 'unknown_feed');
    await expectError(await t.get('/v1/feeds/keys/delta?since=0'), 404, 'unknown_feed');
    await expectError(await t.get('/v1/feeds/..%2f..%2fetc/snapshot'), 404, 'unknown_feed');
  });

  it('400 naming the field for a bad since, wait or bits', async () => {
    const t = await feedsApp();
    for (const query of [
      '',
      'since=',
      'since=abc',
      'since=-1',
      'since=1.5',
      'since=1e3',
      'since=9999999999999999',
    ]) {
      await expectError(await t.get(`/v1/feeds/dns/delta?${query}`), 400, 'invalid_request', 'since');
    }
    for (const query of ['wait=61', 'wait=x', 'wait=-1', 'wait=1.5']) {
      await expectError(await t.get(`/v1/feeds/dns/delta?since=0&${query}`), 400, 'invalid_request', 'wait');
    }
    for (const bits of ['23', '40', '23,40', '40,65', '40,', ',40', '40,41,42', '40;41', 'x,y']) {
      await expectError(
        await t.get(`/v1/feeds/filter/delta?since=0&bits=${bits}`),
        400,
        'invalid_request',
        'bits',
      );
    }
    await expectError(await t.get('/v1/feeds/dns/delta?since=0&bits=40,40'), 400, 'invalid_request', 'bits');
  });

  it('400 for a hash search that is not keys of the given widths', async () => {
    const t = await feedsApp();
    const bits = { root: 24, path: 30 };
    const bad: [unknown, string][] = [
      [{ bits, keys: { root: [2 ** 24] } }, 'keys.root.0'],
      [{ bits, keys: { root: [1], path: [2 ** 24, 2 ** 30] } }, 'keys.path.1'],
      [{ bits: { root: 65, path: 30 }, keys: { root: [1] } }, 'bits.root'],
      [{ bits: { root: 30 }, keys: { root: [1] } }, 'bits.path'],
      [{ bits: 30, keys: { root: [1] } }, 'bits'],
      [{ bits, keys: { root: [], path: [] } }, 'keys'],
      [{ bits, keys: {} }, 'keys'],
      [{ bits, keys: [1] }, 'keys'],
      [{ bits, keys: { root: [1], other: [2] } }, 'keys'],
      [
        {
          bits,
          keys: {
            root: Array.from({ length: 600 }, (_, i) => i),
            path: Array.from({ length: 401 }, (_, i) => i),
          },
        },
        'keys',
      ],
      [{ bits, keys: { root: Array.from({ length: 1001 }, (_, i) => i) } }, 'keys.root'],
    ];
    for (const [body, field] of bad) {
      await expectError(await t.post('/v1/feeds/filter/confirm', body), 400, 'invalid_request', field);
    }
    const text = await t.app.request('/v1/feeds/filter/confirm', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.distributor}`, 'content-type': 'text/plain' },
      body: '{}',
    });
    await expectError(text, 415, 'unsupported_media_type');
  });

  it('503 feed_not_ready with Retry-After while the first snapshots are being built', async () => {
    const t = await feedsApp();
    const starting = new FeedService({
      databasePath: `${t.hub.dir}/takedown.db`,
      signingKey: t.hub.key,
      store: new MemoryArtifactStore(),
    });
    const authenticate = (token: string) => t.hub.registry.authenticate(token);
    const app = new Hono()
      .onError(handleError)
      .route('/v1/feeds', feedsRoutes({ feeds: starting, authenticate }));
    const headers = { authorization: `Bearer ${t.tokens.distributor}` };
    for (const path of ['/v1/feeds/dns/snapshot', '/v1/feeds/dns/delta?since=0']) {
      const response = await app.request(path, { headers });
      await expectError(response, 503, 'feed_not_ready');
      expect(response.headers.get('retry-after')).toBe('1');
    }
  });
});

describe('/v1/feeds (security)', () => {
  it('admits distributors and admins only', async () => {
    const t = await feedsApp();
    await t.hub.order('malware', ['guarded.example']);
    for (const path of ['/v1/feeds', '/v1/feeds/dns/snapshot', '/v1/feeds/url/delta?since=0']) {
      expect((await t.get(path, 'distributor')).status, path).toBe(200);
      expect((await t.get(path, 'admin')).status, path).toBe(200);
      await expectError(await t.get(path, 'auditor'), 403, 'forbidden');
      await expectError(await t.get(path, 'regulator'), 403, 'forbidden');
      await expectError(await t.get(path, null), 401, 'unauthorized');
      await expectError(
        await t.get(path, null, { authorization: 'Bearer tdk_not-a-token' }),
        401,
        'unauthorized',
      );
    }
    await expectError(
      await t.post(
        '/v1/feeds/filter/confirm',
        { bits: { root: 30, path: 30 }, keys: { root: [1] } },
        'auditor',
      ),
      403,
      'forbidden',
    );
  });

  it('checks the token before anything else: no feed names or versions leak to strangers', async () => {
    const t = await feedsApp();
    await expectError(await t.get('/v1/feeds/nope/snapshot', null), 401, 'unauthorized');
    await expectError(await t.get('/v1/feeds/dns/delta?since=bad', 'auditor'), 403, 'forbidden');
  });

  it('refuses a revoked distributor token', async () => {
    const t = await feedsApp();
    const created = t.hub.registry.createToken('distributor', 'soon-revoked');
    if (!created.ok) throw new Error(created.error.message);
    t.hub.registry.revokeToken(created.value.id);
    const response = await t.app.request('/v1/feeds', {
      headers: { authorization: `Bearer ${created.value.token}` },
    });
    await expectError(response, 401, 'unauthorized');
  });
});

describe('acceptsGzip', () => {
  it('follows Accept-Encoding q-values', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, GZIP;q=0.1')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('gzip;q=0, *')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
  });
});
