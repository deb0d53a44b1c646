import { beforeEach, describe, expect, inject, it } from 'vitest';
import { exportPublicKey, generateSigningKey } from '../../src/core/keys.ts';
import { WARNING_HEADER } from '../../workers/edge/app.ts';
import { ORDERS_UNAVAILABLE } from '../../workers/edge/block-page.ts';
import { bucket, clearBucket, publish, startEdge } from './edge-harness.ts';
import { DAY, HOUR, TestFilterFeed, tamperPayload } from './filter-feed.ts';
import { TestLog } from './test-log.ts';

const T0 = Date.UTC(2026, 0, 1);
let now = T0 + HOUR;
const clock = () => now;
const key = await generateSigningKey();
const feed = new TestFilterFeed(key, () => T0);
const ORIGIN = inject('originUrl');
const BLOCKED_BY = 'https://isp.example/legal/blocking';

const VARS = {
  TRUSTED_KEYS: exportPublicKey(key.publicKey),
  BLOCKED_BY,
  ORIGIN,
  FAIL_MODE: 'closed',
  REFRESH_SECONDS: '0',
};

const V1 = ['evil.example/', 'phish.example.net/login.php', 'bank.example.org/secure/'];
const V2 = ['phish.example.net/login.php', 'bank.example.org/secure/', 'casino.example/'];

beforeEach(async () => {
  now = T0 + HOUR;
  await clearBucket();
});

const JSON_ACCEPT = { headers: { accept: 'application/json' } };

describe('edge worker in workerd', () => {
  it('answers 451 with the blocked-by link for listed URLs and passes everything else to the origin', async () => {
    await publish(await feed.snapshot(1, V1));
    const { send } = await startEdge(VARS, clock);
    for (const url of [
      'https://evil.example/',
      'https://a.b.evil.example/deep/page?x=1',
      'http://phish.example.net/login.php',
      'https://bank.example.org/secure/transfer/now',
    ]) {
      const r = await send(url, JSON_ACCEPT);
      expect({ url, status: r.status }).toEqual({ url, status: 451 });
      expect(r.headers.get('link')).toBe(`<${BLOCKED_BY}>; rel="blocked-by"`);
      expect(r.headers.get('cache-control')).toBe('no-store');
      const body = (await r.json()) as { error: { code: string; details: Record<string, unknown> } };
      expect(body.error.code).toBe('unavailable_for_legal_reasons');
      expect(body.error.details).toMatchObject({ url, blockedBy: BLOCKED_BY, orders: [], feedVersion: 1 });
      expect(body.error.details.ordersNote).toBe(ORDERS_UNAVAILABLE);
    }
    for (const url of [
      'http://phish.example.net/index.html',
      'https://notevil.example/',
      'https://example.org/',
    ]) {
      const r = await send(url);
      expect({ url, status: r.status }).toEqual({ url, status: 200 });
      expect(await r.text()).toBe(`origin GET ${new URL(url).pathname}`);
    }
  });

  it('negotiates the block page: HTML for browsers, JSON for API clients, no body for HEAD', async () => {
    await publish(await feed.snapshot(1, V1));
    const { send } = await startEdge(VARS, clock);
    const browser = await send('https://evil.example/', {
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    });
    expect(browser.status).toBe(451);
    expect(browser.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await browser.text();
    expect(html).toContain('Unavailable for legal reasons');
    expect(html).toContain(ORDERS_UNAVAILABLE);
    expect(html).toContain(`href="${BLOCKED_BY}"`);
    const curl = await send('https://evil.example/', { headers: { accept: '*/*' } });
    expect(curl.headers.get('content-type')).toMatch(/^application\/json/);
    const head = await send('https://evil.example/', { method: 'HEAD' });
    expect(head.status).toBe(451);
    expect(await head.text()).toBe('');
  });

  it('answers GET /.takedown/check with the verdict', async () => {
    await publish(await feed.snapshot(1, V1));
    const { send } = await startEdge(VARS, clock);
    const check = async (url: string) =>
      send(`https://any.host.example/.takedown/check?url=${encodeURIComponent(url)}`);
    const blocked = await check('HTTP://WWW.Evil.Example/a/../b#frag');
    expect(blocked.status).toBe(200);
    expect(await blocked.json()).toMatchObject({
      canonical: 'http://www.evil.example/b',
      blocked: true,
      feedVersion: 1,
      orders: [],
      ordersNote: ORDERS_UNAVAILABLE,
    });
    expect(await (await check('phish.example.net/other')).json()).toMatchObject({ blocked: false });
    expect((await send('https://x.example/.takedown/check')).status).toBe(400);
    expect((await check('ftp://evil.example/')).status).toBe(422);
  });

  it('fails closed with 503 while no valid feed has loaded', async () => {
    const { send } = await startEdge(VARS, clock);
    const r = await send('https://evil.example/');
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ error: { code: 'feed_unavailable' } });
    expect((await send('https://fine.example/')).status).toBe(503);
    expect((await send('https://x.example/.takedown/check?url=fine.example')).status).toBe(503);
  });

  it('fails open, passing requests with a warning header, while no valid feed has loaded', async () => {
    const { send } = await startEdge({ ...VARS, FAIL_MODE: 'open' }, clock);
    const r = await send('https://evil.example/page');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('origin GET /page');
    expect(r.headers.get(WARNING_HEADER)).toMatch(/unfiltered/);
  });

  it('treats an artifact signed by another key as no feed, and a broken environment as its fail mode', async () => {
    const stranger = new TestFilterFeed(await generateSigningKey(), () => T0);
    await publish(await stranger.snapshot(1, V1));
    const { send, edge } = await startEdge(VARS, clock);
    expect((await send('https://evil.example/')).status).toBe(503);
    expect(edge.lastRefresh?.problems).toContainEqual(expect.objectContaining({ code: 'untrusted_key' }));

    const open = await startEdge({ ...VARS, TRUSTED_KEYS: 'not-a-key', FAIL_MODE: 'open' }, clock);
    expect((await open.send('https://evil.example/')).headers.get(WARNING_HEADER)).toMatch(/unfiltered/);
    expect(open.edge.status().configError).toMatchObject({ code: 'bad_config' });
  });

  it('refreshes in the background: a request answers from the state it finds and the next sees the update', async () => {
    await publish(await feed.snapshot(1, V1));
    const { send, sendDetached, edge } = await startEdge(VARS, clock);
    expect((await send('https://casino.example/')).status).toBe(200);
    await publish(await feed.snapshot(1, V1), [await feed.delta(1, V1, 2, V2)]);
    now += 1000;
    // This request starts the refresh, and answers from version 1 without waiting for it.
    const { response, settle } = await sendDetached('https://casino.example/');
    expect(response.status).toBe(200);
    await settle();
    expect(edge.lastRefresh).toMatchObject({ from: 1, to: 2, applied: { bucket: 1, hub: 0 } });
    expect((await send('https://casino.example/')).status).toBe(451);
    expect((await send('https://evil.example/')).status).toBe(200);
  });

  it('refreshes at most once per REFRESH_SECONDS', async () => {
    await publish(await feed.snapshot(1, V1));
    const { send, edge } = await startEdge({ ...VARS, REFRESH_SECONDS: '60' }, clock);
    await send('https://evil.example/');
    await publish(await feed.snapshot(1, V1), [await feed.delta(1, V1, 2, V2)]);
    now += 59_000;
    await send('https://evil.example/');
    expect(edge.version).toBe(1);
    now += 1_000;
    await send('https://evil.example/');
    expect(edge.version).toBe(2);
  });

  it('refuses a tampered or expired delta in the bucket and keeps serving the previous state', async () => {
    const snapshot = await feed.snapshot(1, V1);
    await publish(snapshot);
    const { send, edge } = await startEdge(VARS, clock);
    expect((await send('https://evil.example/')).status).toBe(451);

    await publish(snapshot, [tamperPayload(await feed.delta(1, V1, 2, V2))]);
    now += 1000;
    await send('https://x.example/');
    expect(edge.lastRefresh?.problems).toContainEqual(expect.objectContaining({ code: 'payload_digest' }));

    const stale = await feed.delta(1, V1, 2, V2, { createdAt: T0 - 2 * DAY, expiresAt: T0 - DAY });
    await publish(snapshot, [stale]);
    now += 1000;
    await send('https://x.example/');
    expect(edge.lastRefresh?.problems).toContainEqual(expect.objectContaining({ code: 'expired' }));

    expect(edge.version).toBe(1);
    expect((await send('https://evil.example/')).status).toBe(451);
    expect((await send('https://casino.example/')).status).toBe(200);
  });

  it('refuses an expired snapshot at the first load', async () => {
    await publish(await feed.snapshot(1, V1, { createdAt: T0 - 2 * DAY, expiresAt: T0 - DAY }));
    const { send, edge } = await startEdge(VARS, clock);
    expect((await send('https://evil.example/')).status).toBe(503);
    expect(edge.lastRefresh?.problems).toContainEqual(expect.objectContaining({ code: 'expired' }));
  });

  it('reloads a newer snapshot when the bucket has no delta from its version', async () => {
    await publish(await feed.snapshot(1, V1));
    const { send, edge } = await startEdge(VARS, clock);
    await send('https://x.example/');
    await publish(await feed.snapshot(3, V2));
    now += 1000;
    await send('https://x.example/');
    expect(edge.version).toBe(3);
    expect((await send('https://casino.example/')).status).toBe(451);
  });

  it('reports its feed on GET /.takedown/status', async () => {
    await publish(await feed.snapshot(1, V1));
    const { send } = await startEdge(VARS, clock);
    await send('https://x.example/');
    const status = await (await send('https://x.example/.takedown/status')).json();
    expect(status).toMatchObject({
      feed: 'filter',
      version: 1,
      fresh: true,
      failMode: 'closed',
      configError: null,
      sources: { bucket: true, hub: false },
    });
  });

  it('serves through the default export, one edge per isolate', async () => {
    const { default: worker } = await import('../../workers/edge/index.ts');
    const { createExecutionContext, waitOnExecutionContext } = await import('cloudflare:test');
    const { env } = await import('cloudflare:workers');
    now = Date.now();
    const live = new TestFilterFeed(key);
    await publish(await live.snapshot(1, V1));
    const ctx = createExecutionContext();
    const r = await worker.fetch(new Request('https://evil.example/'), { ...env, ...VARS, HUB_URL: '' }, ctx);
    await waitOnExecutionContext(ctx);
    expect(r.status).toBe(451);
  });

  describe('the transparency log', () => {
    /** A feed whose artifacts carry the checkpoints of `log`. */
    const logged = (log: TestLog) => {
      const f = new TestFilterFeed(key, () => T0);
      f.checkpoint = (version) => log.checkpoint(version);
      return f;
    };
    const putLog = async (log: TestLog, version: number) => {
      for (const [path, body] of await log.files(version)) await bucket.put(path, body);
    };
    const status = async (send: (url: string) => Promise<Response>) =>
      (await (await send('https://x.example/.takedown/status')).json()) as {
        checkpoint: { version: number; treeSize: number } | null;
        refusals: Record<string, number>;
      };

    it('applies a delta whose log extends the held one, proven from the tiles in the bucket', async () => {
      const log = new TestLog(key);
      const f = logged(log);
      log.append(1);
      const snapshot = await f.snapshot(1, V1);
      await publish(snapshot);
      const { send, edge } = await startEdge(VARS, clock);
      expect((await send('https://evil.example/')).status).toBe(451);
      expect((await status(send)).checkpoint).toMatchObject({ version: 1, treeSize: 1 });

      log.append(2);
      await publish(snapshot, [await f.delta(1, V1, 2, V2)]);
      await putLog(log, 2);
      now += 1000;
      await send('https://x.example/');
      expect(edge.lastRefresh?.problems).toEqual([]);
      expect(edge.version).toBe(2);
      expect((await status(send)).checkpoint).toMatchObject({ version: 2, treeSize: 2 });
    });

    it('refuses a delta whose log rewrote the tree it holds, keeps serving, and a new isolate refuses it too', async () => {
      const log = new TestLog(key);
      const f = logged(log);
      log.append(1);
      const snapshot = await f.snapshot(1, V1);
      await publish(snapshot);
      const first = await startEdge(VARS, clock);
      expect((await first.send('https://evil.example/')).status).toBe(451);

      // Version 1's leaf is rewritten, and the forked log published with the next version.
      log.rewrite(0, 'version 1, as the hub now tells it');
      log.append(2);
      await publish(snapshot, [await f.delta(1, V1, 2, V2)]);
      await putLog(log, 2);
      now += 1000;
      await first.send('https://x.example/');
      expect(first.edge.lastRefresh?.problems).toContainEqual(
        expect.objectContaining({ source: 'bucket', code: 'log_inconsistent' }),
      );
      expect(first.edge.version).toBe(1);
      expect((await first.send('https://evil.example/')).status).toBe(451);
      expect((await first.send('https://casino.example/')).status).toBe(200);
      expect((await status(first.send)).refusals.log_inconsistent).toBeGreaterThan(0);

      // Another isolate starts from the checkpoint kept in the bucket: the forked snapshot is no feed.
      await publish(await f.snapshot(2, V2));
      const second = await startEdge(VARS, clock);
      expect((await second.send('https://casino.example/')).status).toBe(503);
      expect(second.edge.lastRefresh?.problems).toContainEqual(
        expect.objectContaining({ code: 'log_inconsistent' }),
      );
    });

    it('refuses an artifact without a checkpoint once it holds one', async () => {
      const log = new TestLog(key);
      log.append(1);
      const snapshot = await logged(log).snapshot(1, V1);
      await publish(snapshot);
      const { send, edge } = await startEdge(VARS, clock);
      await send('https://x.example/');
      await publish(snapshot, [await feed.delta(1, V1, 2, V2)]);
      now += 1000;
      await send('https://x.example/');
      expect(edge.lastRefresh?.problems).toContainEqual(
        expect.objectContaining({ code: 'checkpoint_missing' }),
      );
      expect(edge.version).toBe(1);
    });
  });
});
