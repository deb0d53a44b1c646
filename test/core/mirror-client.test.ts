import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MirrorClient } from '../../src/core/mirror-client.ts';
import { STATIC_FORMAT } from '../../src/core/static-layout.ts';

// The mirror client against a real HTTP server on 127.0.0.1 serving whatever `files` holds: what it asks
// for, and how each way a mirror can be wrong comes back (the artifacts themselves are the consumer's to
// verify, test/e2e/sync-mirror.test.ts).

const files = new Map<string, string>();
let server: Server;
let base: string;
let requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end('not found');
    else res.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feeds/`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  files.clear();
  requests = [];
});

const client = () => new MirrorClient({ mirror: base, maxBytes: 1 << 20, pollMs: 20 });
const publish = (version: number, snapshot: number, froms: number[]) => {
  const dns = {
    version,
    snapshot: { version: snapshot, path: `dns/snapshot-${snapshot}-aa.tkd`, bytes: 1 },
    deltas: froms.map((from) => ({
      from,
      to: version,
      path: `dns/delta-${from}-${version}-bb.tkd`,
      bytes: 1,
    })),
  };
  files.set('/feeds/index.json', JSON.stringify({ format: STATIC_FORMAT, version, feeds: { dns } }));
  files.set(`/feeds/${dns.snapshot.path}`, `snapshot ${snapshot}`);
  for (const d of dns.deltas) files.set(`/feeds/${d.path}`, `delta ${d.from}-${d.to}`);
};
const text = (outcome: { kind: string; bytes?: Uint8Array }) =>
  outcome.kind === 'artifact' ? new TextDecoder().decode(outcome.bytes) : outcome.kind;

describe('MirrorClient', () => {
  it('fetches the listed snapshot under the base path, and answers "current" to its path as ETag', async () => {
    publish(4, 3, [3]);
    const first = await client().snapshot('dns');
    expect(first).toMatchObject({ kind: 'artifact', etag: '"dns/snapshot-3-aa.tkd"' });
    expect(text(first)).toBe('snapshot 3');
    expect(await client().snapshot('dns', { etag: '"dns/snapshot-3-aa.tkd"' })).toEqual({ kind: 'current' });
    expect(requests).toEqual(['/feeds/index.json', '/feeds/dns/snapshot-3-aa.tkd', '/feeds/index.json']);
  });

  it('fetches the delta from the given version; resync when only the snapshot leads past it', async () => {
    publish(6, 5, [2, 5]);
    expect(text(await client().delta('dns', 2))).toBe('delta 2-6');
    expect(await client().delta('dns', 6)).toEqual({ kind: 'current' });
    expect(await client().delta('dns', 1)).toEqual({ kind: 'resync' });
    // No delta from 4 and no snapshot past it: the agent cannot move forward from here.
    publish(6, 3, [3]);
    expect(await client().delta('dns', 4)).toMatchObject({
      kind: 'failed',
      reason: 'http',
      message: expect.stringMatching(/lists no delta from version 4 and its snapshot \(version 3\)/),
    });
  });

  it('waits for a newer index by reading it again, as long as the wait lasts', async () => {
    publish(2, 0, [0]);
    const waiting = client().delta('dns', 2, 30);
    // Once the client has read the old index (and found nothing newer), the mirror moves on.
    while (!requests.includes('/feeds/index.json')) await new Promise((resolve) => setTimeout(resolve, 5));
    publish(3, 0, [0, 2]);
    expect(text(await waiting)).toBe('delta 2-3');
    expect(requests.filter((r) => r === '/feeds/index.json').length).toBeGreaterThan(1);
  });

  it('says what is wrong with the mirror: behind the applied version, no index, a foreign index, a missing file', async () => {
    publish(3, 0, [0]);
    expect(await client().delta('dns', 5)).toMatchObject({
      kind: 'failed',
      reason: 'mirror_behind',
      message:
        'index.json is at version 3, behind the applied version 5 (a stale cache or a rolled-back mirror)',
    });
    expect(await client().snapshot('url')).toMatchObject({
      kind: 'failed',
      message: 'index.json lists no feed "url"',
    });
    files.delete('/feeds/dns/delta-0-3-bb.tkd');
    expect(await client().delta('dns', 0)).toMatchObject({
      kind: 'failed',
      message: 'dns/delta-0-3-bb.tkd: listed in index.json, not on the mirror (yet)',
    });
    files.set('/feeds/index.json', '{"format":"something-else/1","feeds":{}}');
    expect(await client().snapshot('dns')).toMatchObject({
      kind: 'failed',
      message: 'index.json is not a takedown-static/1 index',
    });
    files.clear();
    expect(await client().snapshot('dns')).toMatchObject({
      kind: 'failed',
      message: expect.stringMatching(/^index\.json is not on the mirror/),
    });
  });
});
