import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFeedConsumer } from '../../src/core/consumer.ts';
import { FEED_NAMES } from '../../src/feeds/feed-definitions.ts';
import { type PublishedIndex, readIndex } from '../../src/feeds/static-site.ts';
import { openTestHub, type TestHub } from './feed-hub.ts';

let h: TestHub | undefined;
let out: string | undefined;
afterEach(async () => {
  await h?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

const file = async (path: string) => new Uint8Array(await readFile(join(out as string, path)));

async function published(): Promise<PublishedIndex> {
  const index = await readIndex(out as string);
  if (!index) throw new Error('no index.json');
  return index;
}

describe('FeedService.publishStatic', () => {
  it('writes the latest snapshots, one delta to the latest per retained snapshot, and index.json', async () => {
    h = await openTestHub({ options: { keepSnapshots: 2 } });
    out = await mkdtemp(join(tmpdir(), 'takedown-static-'));
    await h.order('malware', ['static-1.example']);
    await h.service.rebuildSnapshots();
    await h.order('csam', ['static-secret.example']);
    expect(await h.service.publishStatic(out)).toBe(2);

    const index = await published();
    expect(index).toMatchObject({ format: 'takedown-static/1', version: 2 });
    for (const feed of FEED_NAMES) {
      const entry = index.feeds[feed];
      expect(entry.snapshot).toMatchObject({
        version: 1,
        path: expect.stringMatching(`^${feed}/snapshot-1-[0-9a-f]{16}\\.tkd$`),
      });
      expect(entry.deltas.map((d) => [d.from, d.to])).toEqual([
        [0, 2],
        [1, 2],
      ]);
      // A consumer of the static copy: the snapshot, then the delta starting at its version.
      const consumer =
        feed === 'filter'
          ? createFeedConsumer('filter', [h.key.publicKey])
          : createFeedConsumer(feed, [h.key.publicKey]);
      const snapshot = await file(entry.snapshot.path);
      expect(snapshot.length).toBe(entry.snapshot.bytes);
      expect(await consumer.apply(snapshot, Date.now())).toMatchObject({ ok: true, value: { to: 1 } });
      const delta = entry.deltas.find((d) => d.from === 1);
      expect(await consumer.apply(await file(delta?.path as string), Date.now())).toMatchObject({
        ok: true,
        value: { to: 2 },
      });
    }
    const dns = new TextDecoder().decode(await file(index.feeds.dns.deltas[0]?.path as string));
    expect(dns).toContain('static-1.example/');
    expect(dns).not.toContain('secret');
  });

  it('adds a delta from the version it published before, and keeps only the files of the last two indexes', async () => {
    h = await openTestHub();
    out = await mkdtemp(join(tmpdir(), 'takedown-static-'));
    await h.order('malware', ['one.example']);
    await h.service.publishStatic(out);
    const first = await published();
    await h.order('malware', ['two.example']);
    await h.service.publishStatic(out);
    const second = await published();
    expect(second.feeds.url.deltas.map((d) => d.from)).toEqual([0, 1]);
    // A consumer that followed the first publish takes one delta on.
    const consumer = createFeedConsumer('url', [h.key.publicKey]);
    await consumer.apply(await file(first.feeds.url.snapshot.path), Date.now());
    await consumer.apply(await file(first.feeds.url.deltas[0]?.path as string), Date.now());
    expect(consumer.version).toBe(1);
    expect(
      await consumer.apply(await file(second.feeds.url.deltas[1]?.path as string), Date.now()),
    ).toMatchObject({
      ok: true,
      value: { from: 1, to: 2, entryCount: 2 },
    });

    await writeFile(join(out, 'url', 'notes.txt'), 'not ours');
    await h.order('malware', ['three.example']);
    await h.service.publishStatic(out);
    const third = await published();
    const listed = (index: PublishedIndex) => [
      index.feeds.url.snapshot.path,
      ...index.feeds.url.deltas.map((d) => d.path),
    ];
    const expected = new Set([...listed(second), ...listed(third)].map((p) => p.slice('url/'.length)));
    expect((await readdir(join(out, 'url'))).sort()).toEqual([...expected, 'notes.txt'].sort());
    expect(listed(first).some((p) => !expected.has(p.slice(4)))).toBe(true);
  });
});
