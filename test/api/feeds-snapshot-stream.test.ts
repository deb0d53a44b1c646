import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { handleError } from '../../src/api/errors.ts';
import { feedsRoutes } from '../../src/api/routes/feeds.ts';
import { decodeArtifact, payloadOffsetOf } from '../../src/core/artifact.ts';
import { snapshotKey } from '../../src/feeds/snapshot-catalog.ts';
import { openTestHub, type TestHub } from '../feeds/feed-hub.ts';

// A snapshot is served from the artifact store over real HTTP: its freshly signed head, then the stored
// payload read as it is sent; gzip is one member made of the head's deflate and the payload's, cached.

const HOUR = 3_600_000;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw GET (or HEAD): the body as it crossed the wire (not decoded). */
function get(
  port: number,
  path: string,
  token: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method, headers: { authorization: `Bearer ${token}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function servedHub(): Promise<{ hub: TestHub; port: number; token: string; clock: { now: number } }> {
  const clock = { now: Date.now() };
  const hub = await openTestHub({
    options: { now: () => clock.now, snapshotTtlMs: 24 * HOUR, keepSnapshots: 1 },
  });
  cleanup.push(() => hub.close());
  await hub.order(
    'gambling',
    Array.from({ length: 400 }, (_, i) => `casino-${i}.example`),
  );
  await hub.order('phishing', ['http://login.example/a', 'http://login.example/b']);
  await hub.service.rebuildSnapshots();
  const app = new Hono();
  app.onError(handleError);
  app.route(
    '/v1/feeds',
    feedsRoutes({ feeds: hub.service, authenticate: (t) => hub.registry.authenticate(t) }),
  );
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
  });
  cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
  const created = hub.registry.createToken('distributor', 'stream-test');
  if (!created.ok) throw new Error(created.error.message);
  return { hub, port: (server.address() as AddressInfo).port, token: created.value.token, clock };
}

describe('snapshots served from the artifact store', () => {
  it('sends the stored file as it is on disk when asked: the hub holds no copy of it', async () => {
    const { hub, port, token } = await servedHub();
    const version = hub.service.feeds()[0]?.snapshotVersion as number;
    const path = join(hub.dir, 'artifacts', ...snapshotKey('dns', version).split('/'));
    const before = await get(port, '/v1/feeds/dns/snapshot', token);
    expect(before.status).toBe(200);
    expect(Number(before.headers['content-length'])).toBe(before.body.length);
    const stored = await readFile(path);
    // Served at commit time, the stored artifact is what goes out, byte for byte.
    expect(before.body.equals(stored)).toBe(true);

    // A payload byte changed in place on disk (same length): the next answer carries it.
    const changed = Buffer.from(stored);
    const at = payloadOffsetOf(changed) + 5;
    changed[at] = changed[at] === 0x61 ? 0x62 : 0x61;
    await writeFile(path, changed);
    const after = await get(port, '/v1/feeds/dns/snapshot', token);
    expect(after.headers.etag).toBe(before.headers.etag);
    expect(after.body.equals(changed)).toBe(true);
  });

  it('streams a re-signed head over the same stored payload, with its ETag, 304 and Content-Length', async () => {
    const { hub, port, token, clock } = await servedHub();
    const first = await get(port, '/v1/feeds/url/snapshot', token);
    clock.now += 13 * HOUR;
    const resigned = await get(port, '/v1/feeds/url/snapshot', token);
    expect(resigned.status).toBe(200);
    expect(resigned.headers.etag).not.toBe(first.headers.etag);
    expect(Number(resigned.headers['content-length'])).toBe(resigned.body.length);
    const a = decodeArtifact(first.body);
    const b = decodeArtifact(resigned.body);
    if (!a.ok || !b.ok) throw new Error('served snapshot does not decode');
    expect(b.value.manifest.createdAt).toBeGreaterThan(a.value.manifest.createdAt);
    expect(Buffer.from(b.value.payload).equals(Buffer.from(a.value.payload))).toBe(true);
    expect(b.value.manifest.payloadSha256).toBe(a.value.manifest.payloadSha256);
    const head = await get(port, '/v1/feeds/url/snapshot', token, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(resigned.body.length);
    expect(head.body.length).toBe(0);
    const tag = resigned.headers.etag as string;
    const again = await get(port, '/v1/feeds/url/snapshot', token, { 'if-none-match': tag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(hub.errors).toEqual([]);
  });

  it('gzips a snapshot as one member, compressing its payload once for every re-signing', async () => {
    const { hub, port, token, clock } = await servedHub();
    const gzipKeys = async () => (await hub.store.list('snapshots/dns/')).filter((k) => k.endsWith('.gz'));
    expect(await gzipKeys()).toEqual([]);
    for (const step of [0, 13 * HOUR]) {
      clock.now += step;
      const plain = await get(port, '/v1/feeds/dns/snapshot', token);
      const gzipped = await get(port, '/v1/feeds/dns/snapshot', token, { 'accept-encoding': 'gzip' });
      expect(gzipped.headers['content-encoding']).toBe('gzip');
      expect(gzipped.headers.etag).toBe(`${(plain.headers.etag as string).slice(0, -1)}-gzip"`);
      expect(Number(gzipped.headers['content-length'])).toBe(gzipped.body.length);
      expect(gzipped.body.length).toBeLessThan(plain.body.length / 2);
      expect(gunzipSync(gzipped.body).equals(plain.body)).toBe(true);
      // One deflate stream between one header and one trailer (curl decodes only a first member).
      expect(inflateRawSync(gzipped.body.subarray(10, -8)).equals(plain.body)).toBe(true);
      const tag = gzipped.headers.etag as string;
      expect((await get(port, '/v1/feeds/dns/snapshot', token, { 'if-none-match': tag })).status).toBe(304);
      expect(await gzipKeys()).toHaveLength(1);
    }
    // A client's fetch decodes it too.
    const response = await fetch(`http://127.0.0.1:${port}/v1/feeds/dns/snapshot`, {
      headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' },
    });
    const decoded = decodeArtifact(new Uint8Array(await response.arrayBuffer()));
    expect(decoded.ok && decoded.value.manifest.feed).toBe('dns');
    // A newer snapshot retires the older one's gzip with it (one snapshot kept per feed here).
    await hub.order('malware', ['newer.example']);
    await hub.service.rebuildSnapshots();
    expect(await gzipKeys()).toEqual([]);
  });
});
