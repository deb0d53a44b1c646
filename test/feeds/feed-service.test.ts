import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeArtifact, PAYLOAD_OFFSET } from '../../src/core/artifact.ts';
import { createFeedConsumer, type FeedConsumer, type FeedState } from '../../src/core/consumer.ts';
import { encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { PlainState } from '../../src/core/plain-state.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import { FEED_NAMES, type FeedName, inPlainFeed } from '../../src/feeds/feed-definitions.ts';
import type { DeltaAnswer } from '../../src/feeds/feed-service.ts';
import { MemoryArtifactStore } from '../../src/feeds/memory-artifact-store.ts';
import type { ServedArtifact } from '../../src/feeds/served-artifact.ts';
import { snapshotKey } from '../../src/feeds/snapshot-catalog.ts';
import { openTestHub, type TestHub } from './feed-hub.ts';

const HOUR = 3_600_000;
const hubs: TestHub[] = [];
async function hub(...args: Parameters<typeof openTestHub>): Promise<TestHub> {
  const opened = await openTestHub(...args);
  hubs.push(opened);
  return opened;
}
afterEach(async () => {
  for (const opened of hubs.splice(0)) {
    expect(opened.errors).toEqual([]);
    await opened.close();
  }
});

type AnyState = PlainState | FilterState;
type AnyConsumer = FeedConsumer<PlainState> | FeedConsumer<FilterState>;

/** What a consumer of `feed` holds at a version whose active entries were `entries`. */
async function stateOf(feed: FeedName, entries: FeedEntry[], bits?: number): Promise<AnyState> {
  if (feed !== 'filter') return PlainState.fromEntries(entries.filter((e) => inPlainFeed(feed, e, ['csam'])));
  const snapshot = await encodeFilterSnapshot(
    entries.map((e) => e.expression),
    { fpr: 1e-6, bits },
  );
  return unwrap(FilterState.fromSnapshot(snapshot.payload));
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

function consumer(h: TestHub, feed: FeedName, resume?: { version: number; state: AnyState }): AnyConsumer {
  const saved = resume && { ...resume, expiresAt: Date.now() + HOUR };
  return feed === 'filter'
    ? createFeedConsumer('filter', [h.key.publicKey], {
        resume: saved as { version: number; state: FilterState; expiresAt: number },
      })
    : createFeedConsumer(feed, [h.key.publicKey], {
        resume: saved as { version: number; state: PlainState; expiresAt: number },
      });
}

const apply = (c: AnyConsumer, bytes: Uint8Array) =>
  (c as FeedConsumer<FeedState<AnyState>>).apply(bytes, Date.now());

function artifactOf(answer: DeltaAnswer): ServedArtifact {
  if (answer.kind !== 'artifact') throw new Error(`expected a delta, got ${JSON.stringify(answer)}`);
  return answer.artifact;
}

/** The key width of the retained filter snapshot at or before `version`, read from the store. */
async function coveringBits(h: TestHub, version: number): Promise<number> {
  const keys = await h.store.list('snapshots/filter/');
  const key = keys.filter((k) => Number(k.slice(-20, -4)) <= version).at(-1) as string;
  return (await h.store.get(key))?.[PAYLOAD_OFFSET + 5] as number;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes as Uint8Array).toString('hex');

describe('FeedService', () => {
  it('takes a consumer at any retained version to the latest with ONE delta, onto the snapshot checksum', async () => {
    const h = await hub({ options: { keepSnapshots: 3 } });
    const history = new Map<number, FeedEntry[]>([[0, []]]);
    const followers = new Map<FeedName, AnyConsumer>();
    for (const feed of FEED_NAMES) {
      const follower = consumer(h, feed);
      expect(await apply(follower, (await h.service.snapshot(feed))?.bytes as Uint8Array)).toMatchObject({
        ok: true,
      });
      followers.set(feed, follower);
    }
    const step = async (version: number) => {
      history.set(version, h.entries());
      // A consumer that polls after every commit follows along one delta at a time; a filter consumer names
      // its key width, which the snapshots rebuilt meanwhile may have changed.
      for (const [feed, follower] of followers) {
        const bits = feed === 'filter' ? (follower.state as FilterState).bits : undefined;
        const delta = artifactOf(await h.service.delta(feed, follower.version as number, bits));
        expect(await apply(follower, delta.bytes)).toMatchObject({ ok: true, value: { to: version } });
      }
    };

    const a = await h.order('malware', ['evil-1.example', 'http://phish.example/login?x=1']);
    await step(a.version);
    await step((await h.order('csam', ['secret.example', 'http://secret2.example/p/'])).version);
    await h.service.rebuildSnapshots();
    await step((await h.order('phishing', ['evil-1.example', 'bank.example'])).version);
    // evil-1 moves to the phishing order: a category change (remove then add); phish.example goes.
    await step(await h.revoke(a.id));
    await h.service.rebuildSnapshots();
    await step((await h.order('gambling', ['casino.example'], 'redirect')).version);
    const latest = (await h.order('malware', ['http://x.example/a/', 'bank.example'])).version;
    await step(latest);
    expect(latest).toBe(6);
    expect(h.service.feeds().map((f) => f.oldestDeltaBase)).toEqual([0, 0, 0]);

    const expected = new Map<FeedName, string>();
    for (const feed of FEED_NAMES) {
      for (let version = 0; version < latest; version++) {
        const bits = feed === 'filter' ? await coveringBits(h, version) : undefined;
        const c = consumer(h, feed, {
          version,
          state: await stateOf(feed, history.get(version) ?? [], bits),
        });
        const delta = artifactOf(await h.service.delta(feed, version));
        expect(delta.manifest).toMatchObject({ kind: 'delta', feed, from: version, to: latest });
        const applied = await apply(c, delta.bytes);
        expect(applied, `${feed} from ${version}`).toMatchObject({ ok: true, value: { to: latest } });
        const independent = await stateOf(feed, history.get(latest) ?? [], bits);
        expect(await c.state?.checksum()).toBe(await independent.checksum());
      }
      expect(await h.service.delta(feed, latest)).toEqual({ kind: 'current', version: latest });
      expected.set(feed, (await followers.get(feed)?.state?.checksum()) as string);
    }
    await h.service.rebuildSnapshots();
    for (const feed of ['dns', 'url'] as const) {
      const snapshot = (await h.service.snapshot(feed))?.manifest;
      expect(snapshot).toMatchObject({ kind: 'snapshot', to: latest, checksum: expected.get(feed) });
    }
    // The filter snapshot of the latest version has wider keys (the feed grew): a consumer naming that
    // width still gets one delta from any retained version and lands on the snapshot's checksum.
    const filterSnapshot = (await h.service.snapshot('filter'))?.bytes as Uint8Array;
    const bits = filterSnapshot[PAYLOAD_OFFSET + 5] as number;
    expect(bits).toBeGreaterThan(await coveringBits(h, latest - 1));
    for (const version of [2, 3, 4, 5]) {
      const c = consumer(h, 'filter', {
        version,
        state: await stateOf('filter', history.get(version) ?? [], bits),
      });
      expect(await apply(c, artifactOf(await h.service.delta('filter', version, bits)).bytes)).toMatchObject({
        ok: true,
      });
      expect(await c.state?.checksum()).toBe(unwrap(decodeArtifact(filterSnapshot)).manifest.checksum);
    }
  });

  it('tells a consumer older than the retained snapshots to resync, and it reaches the latest from a snapshot', async () => {
    const h = await hub({ options: { keepSnapshots: 2 } });
    await h.order('malware', ['old.example']);
    await h.service.rebuildSnapshots();
    await h.order('phishing', ['newer.example']);
    await h.service.rebuildSnapshots();
    const latest = (await h.order('fraud', ['latest.example'])).version;
    expect(h.service.feeds()[0]).toMatchObject({ version: 3, snapshotVersion: 2, oldestDeltaBase: 1 });
    expect(await h.store.list('snapshots/dns/')).toEqual([snapshotKey('dns', 1), snapshotKey('dns', 2)]);

    const stale = consumer(h, 'url', { version: 0, state: PlainState.empty() });
    expect(await h.service.delta('url', 0)).toEqual({
      kind: 'resync',
      reason: 'too_old',
      version: latest,
      horizon: 1,
      snapshotVersion: 2,
    });
    expect(await apply(stale, (await h.service.snapshot('url'))?.bytes as Uint8Array)).toMatchObject({
      ok: true,
    });
    expect(await apply(stale, artifactOf(await h.service.delta('url', 2)).bytes)).toMatchObject({
      ok: true,
      value: { to: latest, entryCount: 3 },
    });
    expect(await h.service.delta('url', 99)).toMatchObject({
      kind: 'resync',
      reason: 'ahead',
      version: latest,
    });
  });

  it('never puts confidential entries in the plain feeds, only in the hashed one', async () => {
    const h = await hub();
    await h.order('csam', ['secret.example', 'http://hidden.example/p/q.html']);
    await h.order('malware', ['public.example', 'http://shown.example/x']);
    await h.service.rebuildSnapshots();
    await h.order('csam', ['later-secret.example']);
    await h.order('malware', ['later-public.example']);
    const plainBytes: Uint8Array[] = [];
    for (const feed of ['dns', 'url'] as const) {
      plainBytes.push((await h.service.snapshot(feed))?.bytes as Uint8Array);
      for (const since of [0, 1, 2, 3]) plainBytes.push(artifactOf(await h.service.delta(feed, since)).bytes);
    }
    for (const bytes of plainBytes) {
      expect(text(bytes)).not.toMatch(/secret|hidden/);
      expect(text(bytes)).toMatch(/public\.example/);
    }
    expect(text((await h.service.snapshot('dns'))?.bytes as Uint8Array)).not.toContain('shown.example');
    expect(text((await h.service.snapshot('url'))?.bytes as Uint8Array)).toContain('shown.example/x');

    const filter = consumer(h, 'filter') as FeedConsumer<FilterState>;
    expect(await apply(filter, (await h.service.snapshot('filter'))?.bytes as Uint8Array)).toMatchObject({
      ok: true,
    });
    expect(await apply(filter, artifactOf(await h.service.delta('filter', 2)).bytes)).toMatchObject({
      ok: true,
    });
    for (const expression of [
      'secret.example/',
      'hidden.example/p/q.html',
      'later-secret.example/',
      'public.example/',
    ]) {
      expect(filter.state?.isBlocked([expression]), expression).toBe(true);
    }
    expect(filter.state?.isBlocked(['innocent.example/'])).toBe(false);
  });

  it('answers a waiting long-poll as soon as a version is committed, with that version', async () => {
    const h = await hub();
    const before = h.service.version as number;
    let answeredAt = 0;
    const waiting = h.service.waitForVersion(before, 30_000).then((version) => {
      answeredAt = Date.now();
      return version;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answeredAt).toBe(0);
    const committedAt = Date.now();
    const created = h.registry.createOrder(
      { reference: 'LP-1', authority: 'Test Authority', category: 'malware', targets: ['poll.example'] },
      'test',
    );
    if (!created.ok) throw new Error(created.error.message);
    h.service.committed(created.value.version);
    expect(await waiting).toBe(before + 1);
    // The contract: visible within one second of the commit (generous on loopback).
    expect(answeredAt - committedAt).toBeLessThan(1000);
    expect(artifactOf(await h.service.delta('dns', before)).manifest.to).toBe(before + 1);
  });

  it('sees versions written without committed() (another process) through its poll', async () => {
    const h = await hub();
    const before = h.service.version as number;
    const created = h.registry.createOrder(
      { reference: 'EXT-1', authority: 'Test Authority', category: 'malware', targets: ['external.example'] },
      'cli',
    );
    if (!created.ok) throw new Error(created.error.message);
    expect(await h.service.waitForVersion(before, 5_000)).toBe(before + 1);
  });

  it('builds snapshots in the background after N changes, and after T when anything changed', async () => {
    const byCount = await hub({ options: { snapshotAfterChanges: 3 } });
    await byCount.order('malware', ['one.example']);
    const { version } = await byCount.order('malware', ['two.example', 'three.example']);
    await vi.waitFor(() => expect(byCount.service.feeds()[0]?.snapshotVersion).toBe(version), {
      timeout: 20_000,
    });

    const byTime = await hub({ options: { snapshotAfterMs: 200 } });
    const timed = await byTime.order('malware', ['timed.example']);
    await vi.waitFor(() => expect(byTime.service.feeds()[0]?.snapshotVersion).toBe(timed.version), {
      timeout: 20_000,
    });
  });

  it('closes a gap too large for the event loop with a background rescan', async () => {
    const h = await hub({ options: { maxIncrementalChanges: 2 } });
    const start = consumer(h, 'url');
    expect(await apply(start, (await h.service.snapshot('url'))?.bytes as Uint8Array)).toMatchObject({
      ok: true,
    });
    const { version } = await h.order('malware', [
      'a.example',
      'b.example',
      'c.example',
      'http://d.example/x',
    ]);
    expect(await apply(start, artifactOf(await h.service.delta('url', 0)).bytes)).toMatchObject({
      ok: true,
      value: { to: version, entryCount: 4 },
    });
  });

  it('keeps the filter key width from snapshot to snapshot unless the entries outgrow it', async () => {
    const h = await hub();
    const widths = async () => {
      await h.service.rebuildSnapshots();
      return h.service.feeds()[2]?.bits;
    };
    const empty = h.service.feeds()[2]?.bits as number;
    const { id } = await h.order('malware', [
      'a.example',
      'b.example',
      'c.example',
      'd.example',
      'e.example',
    ]);
    const grown = (await widths()) as number;
    expect(grown).toBeGreaterThan(empty);
    await h.revoke(id);
    await h.order('malware', ['f.example']);
    expect(await widths()).toBe(grown);
    // A consumer still on the empty snapshot gets a delta of its own width, and lands on its checksum.
    const old = consumer(h, 'filter', { version: 0, state: await stateOf('filter', [], empty) });
    const delta = artifactOf(await h.service.delta('filter', 0));
    expect(delta.bytes[PAYLOAD_OFFSET + 5]).toBe(empty);
    expect(await apply(old, delta.bytes)).toMatchObject({ ok: true, value: { to: 3, entryCount: 1 } });
    expect(artifactOf(await h.service.delta('filter', 1)).bytes[PAYLOAD_OFFSET + 5]).toBe(grown);
    expect(artifactOf(await h.service.delta('filter', 0, 40)).bytes[PAYLOAD_OFFSET + 5]).toBe(40);
  });

  it('re-signs before expiry: dated at the commit, moved forward in half-TTL steps', async () => {
    let clock = Date.now();
    const h = await hub({ options: { now: () => clock, snapshotTtlMs: 24 * HOUR, deltaTtlMs: 2 * HOUR } });
    const { version } = await h.order('malware', ['fresh.example']);
    const committedAt = Date.parse(h.registry.versionInfo(version)?.createdAt as string);
    const first = artifactOf(await h.service.delta('dns', 0));
    expect(first.manifest).toMatchObject({ createdAt: committedAt, expiresAt: committedAt + 2 * HOUR });
    expect(artifactOf(await h.service.delta('dns', 0))).toBe(first);
    clock = committedAt + 90 * 60_000;
    const renewed = artifactOf(await h.service.delta('dns', 0));
    expect(renewed.manifest).toMatchObject({
      createdAt: committedAt + HOUR,
      expiresAt: committedAt + 3 * HOUR,
    });
    expect(renewed.etag).not.toBe(first.etag);
    await h.service.rebuildSnapshots();
    clock = committedAt + 13 * HOUR;
    const snapshot = (await h.service.snapshot('dns'))?.manifest;
    expect(snapshot).toMatchObject({
      createdAt: committedAt + 12 * HOUR,
      expiresAt: committedAt + 36 * HOUR,
    });
  });

  it('survives a restart: a new service on the same data directory serves the same bytes', async () => {
    const dir = join(tmpdir(), `takedown-restart-${process.pid}-${Date.now()}`);
    try {
      const first = await openTestHub({ dir });
      await first.order('malware', ['kept.example', 'http://kept.example/path']);
      await first.order('csam', ['kept-secret.example']);
      await first.service.rebuildSnapshots();
      const before = await Promise.all(FEED_NAMES.map(async (f) => (await first.service.snapshot(f))?.bytes));
      const deltaBefore = artifactOf(await first.service.delta('url', 1)).bytes;
      const keys = await first.store.list('snapshots/');
      await first.close();
      expect(first.errors).toEqual([]);

      const second = await openTestHub({ dir, key: first.key });
      hubs.push(second);
      const after = await Promise.all(FEED_NAMES.map(async (f) => (await second.service.snapshot(f))?.bytes));
      expect(after.map(hex)).toEqual(before.map(hex));
      expect(hex(artifactOf(await second.service.delta('url', 1)).bytes)).toBe(hex(deltaBefore));
      expect(await second.store.list('snapshots/')).toEqual(keys);
      // Versions the stored snapshots lack when it starts: its start-up scan becomes the new snapshots.
      await second.order('malware', ['while-down.example']);
      await second.close();
      const third = await openTestHub({ dir, key: first.key });
      hubs.push(third);
      expect(third.service.feeds().map((f) => f.snapshotVersion)).toEqual([3, 3, 3]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drops stored snapshots of versions this registry never had', async () => {
    const store = new MemoryArtifactStore();
    const other = await hub({ store });
    await other.order('malware', ['elsewhere.example']);
    await other.service.rebuildSnapshots();
    const fresh = await hub({ store, key: other.key });
    expect(await store.list('snapshots/dns/')).toEqual([snapshotKey('dns', 0)]);
    expect(decodeArtifact((await fresh.service.snapshot('dns'))?.bytes as Uint8Array)).toMatchObject({
      ok: true,
      value: { manifest: { to: 0, entryCount: 0 } },
    });
  });

  it('answers the hash search with the keys blocked at the latest version', async () => {
    const h = await hub();
    await h.order('csam', ['blocked.example']);
    const state = (await stateOf('filter', h.entries(), 30)) as FilterState;
    const [blocked] = state.matchingKeys(['blocked.example/']);
    expect(h.service.confirm(30, [blocked as number, 12345, blocked as number])).toEqual({
      version: 1,
      blocked: [blocked],
    });
  });
});
