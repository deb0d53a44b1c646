/**
 * End to end: the real hub on loopback, the edge worker bundled by `wrangler deploy --dry-run` and run by
 * Miniflare (workerd), and a tiny Node origin. Orders posted to the hub reach the worker through its
 * background refresh; its cron copies the feed into the bucket, which keeps it working without the hub.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeArtifact } from '../../src/core/artifact.ts';
import { decodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { exportPublicKey, generateSigningKey } from '../../src/core/keys.ts';
import { type FeedIndex, feedEntry } from '../../src/core/static-layout.ts';
import { FeedStore } from '../../workers/edge/feed-store.ts';
import { bundleEdge, type EdgeRuntime, startEdgeRuntime } from '../../workers/tools/runtime.ts';
import { eventually, type HubProcess, newTokenText, runCli, startHubProcess } from '../helpers/hub.ts';
import { DAY, TestFilterFeed, tamperPayload } from './filter-feed.ts';

const BLOCKED_BY = 'https://isp.example/legal/blocking';
const ORDER = { reference: '5167/BTTTT-CATTT', authority: 'Authority of Information Security' };

let dir: string;
let hub: HubProcess;
let origin: Server;
let originUrl: string;
let script: string;
let edge: EdgeRuntime;
let vars: Record<string, string>;
const tokens: Record<string, string> = {};
const testKey = await generateSigningKey();

async function hubCall(method: string, path: string, token: string, json?: unknown) {
  const r = await fetch(`${hub.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) },
    body: json ? JSON.stringify(json) : undefined,
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

/** Polls the worker until `url` answers `status` (each request starts a background refresh). */
const answers = (url: string, status: number, init?: RequestInit) =>
  eventually(async () => {
    const r = await edge.fetch(url, init);
    if (r.status === status) return r;
    await r.arrayBuffer();
    return undefined;
  }, `${url} to answer ${status}`);

const status = async () => (await edge.fetch('http://any.example/.takedown/status')).json();

/** Sends requests (each starts a refresh) until the last refresh was refused for `code`. */
const refusedFor = (code: string) =>
  eventually(async () => {
    await (await edge.fetch('http://any.example/')).arrayBuffer();
    const s = await status();
    return s.lastRefresh?.problems?.some((p: { code: string }) => p.code === code) ? s : undefined;
  }, `a refresh refused for ${code}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'takedown-edge-e2e-'));
  origin = createServer((req, res) => res.end(`origin ${req.method} ${req.url}`));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const admin = newTokenText();
  hub = await startHubProcess({ dataDir: join(dir, 'hub'), adminToken: admin });
  for (const role of ['distributor', 'regulator']) {
    tokens[role] = (await hubCall('POST', '/v1/tokens', admin, { role, name: `edge-e2e-${role}` })).token;
  }
  const keys = (await (await fetch(`${hub.url}/v1/keys`)).json()) as { keys: { publicKey: string }[] };
  ({ script } = await bundleEdge(join(dir, 'dist')));
  vars = {
    HUB_URL: hub.url,
    HUB_TOKEN: tokens.distributor as string,
    // The test key signs the expired and tampered artifacts planted in the bucket.
    TRUSTED_KEYS: [...keys.keys.map((k) => k.publicKey), exportPublicKey(testKey.publicKey)].join(','),
    FAIL_MODE: 'closed',
    BLOCKED_BY,
    ORIGIN: originUrl,
    REFRESH_SECONDS: '0',
  };
  edge = await startEdgeRuntime(script, vars, { persistDir: join(dir, 'r2') });
}, 120_000);

afterAll(async () => {
  await edge?.dispose();
  await hub?.stop();
  await new Promise((resolve) => origin?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('edge worker end to end (hub, wrangler bundle in Miniflare, origin)', () => {
  let orderId: number;

  it('blocks an ordered domain, its sub-domains and an ordered URL after the next refresh', async () => {
    expect((await answers('http://evil-e2e.example/', 200)).headers.get('link')).toBeNull();
    const created = await hubCall('POST', '/v1/orders', tokens.regulator as string, {
      ...ORDER,
      category: 'phishing',
      targets: ['evil-e2e.example', 'http://shop.example.net/phish/login.php'],
    });
    orderId = created.order.id;
    for (const url of ['http://evil-e2e.example/', 'https://www.evil-e2e.example/account?id=7']) {
      const r = await answers(url, 451, { headers: { accept: 'application/json' } });
      expect(r.headers.get('link')).toBe(`<${BLOCKED_BY}>; rel="blocked-by"`);
      const body = (await r.json()) as { error: { details: { orders: Record<string, string>[] } } };
      expect(body.error.details.orders).toEqual([
        expect.objectContaining({ reference: ORDER.reference, authority: ORDER.authority }),
      ]);
      expect(body.error.details.orders[0]?.issuedAt).toMatch(/^\d{4}-\d{2}-\d{2}/);
    }
    const page = await answers('http://shop.example.net/phish/login.php', 451, {
      headers: { accept: 'text/html' },
    });
    expect(await page.text()).toContain(ORDER.reference);
    for (const url of ['http://shop.example.net/catalogue', 'http://unrelated.example/x?y=1']) {
      const r = await edge.fetch(url);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe(`origin GET ${new URL(url).pathname}${new URL(url).search}`);
    }
    const check = await edge.fetch(
      `http://any.example/.takedown/check?url=${encodeURIComponent('http://evil-e2e.example/')}`,
    );
    expect(await check.json()).toMatchObject({ blocked: true, orders: [{ reference: ORDER.reference }] });
  });

  it('serves the pages again after the order is revoked', async () => {
    await hubCall('POST', `/v1/orders/${orderId}/revoke`, tokens.regulator as string, {
      reason: 'appeal upheld',
    });
    await answers('http://evil-e2e.example/', 200);
    expect((await edge.fetch('http://shop.example.net/phish/login.php')).status).toBe(200);
  });

  it('copies the feed into the bucket on cron, and keeps serving from it with the hub down', async () => {
    await hubCall('POST', '/v1/orders', tokens.regulator as string, {
      ...ORDER,
      reference: '5168/BTTTT-CATTT',
      category: 'fraud',
      targets: ['fraud-e2e.example'],
    });
    await answers('http://fraud-e2e.example/', 451);
    const version = (await status()).version as number;
    await edge.scheduled();
    const bucket = await edge.bucket();
    const store = new FeedStore(bucket);
    const index = await store.index();
    expect(index).toMatchObject({ format: 'takedown-static/1', version, feeds: { filter: { version } } });
    expect((await status()).lastPull).toMatchObject({ to: version, problems: [] });
    const listed = feedEntry(index, 'filter') as FeedIndex;

    // A tampered and an expired delta from the current version, each adding a domain: both refused.
    const decoded = decodeArtifact((await store.file(listed.snapshot.path)) as Uint8Array);
    if (!decoded.ok) throw new Error(decoded.error.message);
    const payload = decodeFilterSnapshot(decoded.value.payload);
    if (!payload.ok) throw new Error(payload.error.message);
    const planted = new TestFilterFeed(testKey, Date.now, payload.value.bits);
    const current = ['fraud-e2e.example/'];
    const plant = async (bytes: Uint8Array, name: string) => {
      await bucket.put(`filter/${name}`, bytes);
      await bucket.put(
        'index.json',
        JSON.stringify({
          ...index,
          version: version + 1,
          feeds: {
            filter: {
              ...listed,
              version: version + 1,
              deltas: [{ from: version, to: version + 1, path: `filter/${name}`, bytes: bytes.length }],
            },
          },
        }),
      );
    };
    const tampered = await planted.delta(version, current, version + 1, [
      ...current,
      'tampered-e2e.example/',
    ]);
    await plant(tamperPayload(tampered), `delta-${version}-${version + 1}-0000000000000001.tkd`);
    await refusedFor('payload_digest');
    const expired = await planted.delta(version, current, version + 1, [...current, 'expired-e2e.example/'], {
      createdAt: Date.now() - 2 * DAY,
      expiresAt: Date.now() - DAY,
    });
    await plant(expired, `delta-${version}-${version + 1}-0000000000000002.tkd`);
    await refusedFor('expired');
    expect((await status()).version).toBe(version);
    expect((await edge.fetch('http://tampered-e2e.example/')).status).toBe(200);
    expect((await edge.fetch('http://expired-e2e.example/')).status).toBe(200);
    expect((await edge.fetch('http://fraud-e2e.example/')).status).toBe(451);

    // The hub goes away; a fresh isolate loads the feed from the bucket alone.
    await bucket.put('index.json', JSON.stringify(index));
    await hub.stop();
    await edge.dispose();
    edge = await startEdgeRuntime(script, vars, { persistDir: join(dir, 'r2') });
    const r = await edge.fetch('http://fraud-e2e.example/', { headers: { accept: 'application/json' } });
    expect(r.status).toBe(451);
    expect(await r.json()).toMatchObject({
      error: { details: { ordersNote: 'order reference unavailable' } },
    });
    const s = await status();
    expect(s).toMatchObject({ version, lastRefresh: { applied: { hub: 0 } } });
    expect(s.lastRefresh.applied.bucket).toBeGreaterThan(0);
    expect((await edge.fetch('http://evil-e2e.example/')).status).toBe(200);
  });

  it('loads a `takedown publish` directory uploaded to the bucket, without any hub', async () => {
    const out = join(dir, 'published');
    const published = await runCli(['publish', '--out', out, '--data', join(dir, 'hub')]);
    expect(published.code, published.stderr).toBe(0);
    await edge.dispose();
    edge = await startEdgeRuntime(script, { ...vars, HUB_URL: '' });
    const bucket = await edge.bucket();
    for (const file of await readdir(out, { recursive: true })) {
      const path = join(out, file);
      if ((await stat(path)).isFile())
        await bucket.put(file.split(sep).join('/'), new Uint8Array(await readFile(path)));
    }
    expect((await edge.fetch('http://www.fraud-e2e.example/')).status).toBe(451);
    expect((await edge.fetch('http://evil-e2e.example/')).status).toBe(200);
    expect(await status()).toMatchObject({
      sources: { bucket: true, hub: false },
      lastRefresh: { problems: [] },
    });
  });
});
