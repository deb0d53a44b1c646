import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeArtifact, encodeArtifact, payloadOffsetOf } from '../../src/core/artifact.ts';
import type { KeyWidths } from '../../src/core/confirm.ts';
import { createFeedConsumer, type FeedConsumer, type FeedState } from '../../src/core/consumer.ts';
import { encodeFilterSnapshot, filterSnapshotWidths } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { PlainState } from '../../src/core/plain-state.ts';
import type { FeedEntry, FeedName } from '../../src/core/types.ts';
import { FEED_NAMES, inPlainFeed } from '../../src/feeds/feed-definitions.ts';
import type { DeltaAnswer } from '../../src/feeds/feed-service.ts';
import { MemoryArtifactStore } from '../../src/feeds/memory-artifact-store.ts';
import type { HeldArtifact } from '../../src/feeds/served-artifact.ts';
import { snapshotKey } from '../../src/feeds/snapshot-catalog.ts';
import { damageStored, openTestHub, type TestHub } from './feed-hub.ts';

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
async function stateOf(feed: FeedName, entries: FeedEntry[], bits?: KeyWidths): Promise<AnyState> {
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

function artifactOf(answer: DeltaAnswer): HeldArtifact {
  if (answer.kind !== 'artifact') throw new Error(`expected a delta, got ${JSON.stringify(answer)}`);
  return answer.artifact;
}

/** The key widths of a filter snapshot artifact, from its payload's header. */
function snapshotBits(artifact: Uint8Array): KeyWidths {
  const bits = filterSnapshotWidths(artifact.subarray(payloadOffsetOf(artifact)));
  if (!bits) throw new Error('not a filter snapshot artifact');
  return bits;
}

/** The key widths of a filter delta artifact (bytes 5 and 6 of its payload, see filter-payload.ts). */
const deltaBits = (artifact: Uint8Array): KeyWidths => ({
  root: artifact[payloadOffsetOf(artifact) + 5] as number,
  path: artifact[payloadOffsetOf(artifact) + 6] as number,
});

/** The key widths of the retained filter snapshot at or before `version`, read from the store. */
async function coveringBits(h: TestHub, version: number): Promise<KeyWidths> {
  const keys = await h.store.list('snapshots/filter/');
  const key = keys.filter((k) => Number(k.slice(-20, -4)) <= version).at(-1) as string;
  return snapshotBits((await h.store.get(key)) as Uint8Array);
}

/** Whether `a` is at least as wide as `b` in both classes. */
const noNarrower = (a: KeyWidths, b: KeyWidths) => a.root >= b.root && a.path >= b.path;

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes as Uint8Array).toString('hex');

describe('FeedService', () => {
  it('takes a consumer at any retained version to the latest with ONE delta, onto the snapshot checksum', async () => {
    const h = await hub({ options: { keepSnapshots: 3 } });
    const history = new Map<number, FeedEntry[]>([[0, []]]);
    const followers = new Map<FeedName, AnyConsumer>();
    for (const feed of FEED_NAMES) {
      const follower = consumer(h, feed);
      expect(
        await apply(follower, (await (await h.service.snapshot(feed))?.readAll()) as Uint8Array),
      ).toMatchObject({
        ok: true,
      });
      followers.set(feed, follower);
    }
    const step = async (version: number) => {
      history.set(version, h.entries());
      // A consumer that polls after every commit follows along one delta at a time; a filter consumer names
      // its key widths, which the snapshots rebuilt meanwhile may have changed.
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
    const latest = (
      await h.order('malware', [
        'http://x.example/a/',
        'bank.example',
        'http://y.example/b',
        'http://z.example/c',
      ])
    ).version;
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
    // A consumer naming the widths of the latest filter snapshot (never narrower than the earlier ones) still
    // gets one delta from any retained version and lands on the snapshot's checksum.
    const filterSnapshot = (await (await h.service.snapshot('filter'))?.readAll()) as Uint8Array;
    const bits = snapshotBits(filterSnapshot);
    expect(noNarrower(bits, await coveringBits(h, latest - 1))).toBe(true);
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

  it('applies a large version in several turns of the event loop and shows it once, whole', async () => {
    const h = await hub();
    const base = await h.order('malware', ['evil-1.example', 'http://phish.example/login']);
    await h.service.rebuildSnapshots();
    const followers = new Map<FeedName, AnyConsumer>();
    for (const feed of FEED_NAMES) {
      const follower = consumer(h, feed);
      const snapshot = (await (await h.service.snapshot(feed))?.readAll()) as Uint8Array;
      expect(await apply(follower, snapshot)).toMatchObject({ ok: true, value: { to: base.version } });
      followers.set(feed, follower);
    }
    const targets = Array.from({ length: 4500 }, (_, i) =>
      i % 3 ? `bulk-${i}.example` : `http://bulk-${i}.example/p/${i}`,
    );
    const created = unwrap(
      h.registry.createOrder(
        { reference: 'BULK', authority: 'Authority', category: 'phishing', targets },
        'alice',
      ),
    );
    h.service.committed(created.version);
    // Count the turns of the loop during which the new version is not visible yet: the work yields.
    const seen: (number | null)[] = [];
    while (h.service.version !== created.version) {
      seen.push(h.service.version);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(seen.length).toBeGreaterThan(3);
    expect(new Set(seen)).toEqual(new Set([base.version]));
    const entries = h.entries();
    for (const [feed, follower] of followers) {
      const delta = artifactOf(await h.service.delta(feed, base.version));
      expect(await apply(follower, delta.bytes)).toMatchObject({ ok: true, value: { to: created.version } });
      const bits = feed === 'filter' ? (follower.state as FilterState).bits : undefined;
      expect(await follower.state?.checksum(), feed).toBe(
        await (await stateOf(feed, entries, bits)).checksum(),
      );
    }
    expect(h.service.feeds().find((f) => f.feed === 'dns')?.entryCount).toBe(3001);
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
    expect(
      await apply(stale, (await (await h.service.snapshot('url'))?.readAll()) as Uint8Array),
    ).toMatchObject({
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
      plainBytes.push((await (await h.service.snapshot(feed))?.readAll()) as Uint8Array);
      for (const since of [0, 1, 2, 3]) plainBytes.push(artifactOf(await h.service.delta(feed, since)).bytes);
    }
    for (const bytes of plainBytes) {
      expect(text(bytes)).not.toMatch(/secret|hidden/);
      expect(text(bytes)).toMatch(/public\.example/);
    }
    expect(text((await (await h.service.snapshot('dns'))?.readAll()) as Uint8Array)).not.toContain(
      'shown.example',
    );
    expect(text((await (await h.service.snapshot('url'))?.readAll()) as Uint8Array)).toContain(
      'shown.example/x',
    );

    const filter = consumer(h, 'filter') as FeedConsumer<FilterState>;
    expect(
      await apply(filter, (await (await h.service.snapshot('filter'))?.readAll()) as Uint8Array),
    ).toMatchObject({
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
    expect(
      await apply(start, (await (await h.service.snapshot('url'))?.readAll()) as Uint8Array),
    ).toMatchObject({
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

  it('scales the rescan and rebuild limits with the list: 2 % and 1 % of the entries over the floors', async () => {
    const h = await hub({ options: { maxIncrementalChanges: 2, snapshotAfterChanges: 3 } });
    const large = await h.order(
      'malware',
      Array.from({ length: 600 }, (_, i) => `bulk-${i}.example`),
    );
    // 600 changes is past both floors: a rescan made the version visible and stored its snapshots.
    expect(h.service.feeds()[0]?.snapshotVersion).toBe(large.version);
    // Five changes are past both floors but under 2 % and 1 % of 600 entries: applied, no scan.
    const small = await h.order('malware', [
      's1.example',
      's2.example',
      's3.example',
      's4.example',
      'http://s5.example/x',
    ]);
    await h.service.waitForVersion(small.version, 5_000);
    expect(h.service.feeds()[0]?.snapshotVersion).toBe(large.version);
    const consumerOfUrl = consumer(h, 'url');
    expect(
      await apply(consumerOfUrl, (await (await h.service.snapshot('url'))?.readAll()) as Uint8Array),
    ).toMatchObject({
      ok: true,
    });
    expect(
      await apply(consumerOfUrl, artifactOf(await h.service.delta('url', large.version)).bytes),
    ).toMatchObject({ ok: true, value: { to: small.version, entryCount: 605 } });
    // The sixth change since the scan reaches 1 % of 605 entries: a rebuild.
    const sixth = await h.order('malware', ['s6.example']);
    await vi.waitFor(() => expect(h.service.feeds()[0]?.snapshotVersion).toBe(sixth.version), {
      timeout: 20_000,
    });
  });

  it('keeps the filter key widths from snapshot to snapshot unless the entries outgrow them', async () => {
    const h = await hub();
    const widths = async () => {
      await h.service.rebuildSnapshots();
      return h.service.feeds()[2]?.bits as KeyWidths;
    };
    const empty = h.service.feeds()[2]?.bits as KeyWidths;
    expect(empty).toEqual(
      snapshotBits((await (await h.service.snapshot('filter'))?.readAll()) as Uint8Array),
    );
    const { id } = await h.order('malware', [
      'a.example',
      'b.example',
      'c.example',
      'd.example',
      'e.example',
    ]);
    const grown = await widths();
    // Five entries fit the insert capacity an empty snapshot is sized for (at least 10 000 keys): the widths
    // stay; those of more entries grow (confirmationWidths), and a feed never narrows them (below).
    expect(grown).toEqual(empty);
    await h.revoke(id);
    await h.order('malware', ['f.example']);
    expect(await widths()).toEqual(grown);
    // A consumer still on the empty snapshot gets a delta of its own widths, and lands on its checksum.
    const old = consumer(h, 'filter', { version: 0, state: await stateOf('filter', [], empty) });
    const delta = artifactOf(await h.service.delta('filter', 0));
    expect(deltaBits(delta.bytes)).toEqual(empty);
    expect(await apply(old, delta.bytes)).toMatchObject({ ok: true, value: { to: 3, entryCount: 1 } });
    expect(deltaBits(artifactOf(await h.service.delta('filter', 1)).bytes)).toEqual(grown);
    const named = { root: 40, path: 41 };
    expect(deltaBits(artifactOf(await h.service.delta('filter', 0, named)).bytes)).toEqual(named);
  });

  it('drops stored filter snapshots of another payload format when it starts', async () => {
    const store = new MemoryArtifactStore();
    const first = await hub({ store });
    await first.order('malware', ['kept.example']);
    await first.service.rebuildSnapshots();
    await first.service.stop();
    // The latest snapshot as an older hub would have written it: a validly signed artifact whose payload
    // is of another filter format.
    const [stored] = (await store.list('snapshots/filter/')).slice(-1) as [string];
    const { manifest, payload } = unwrap(decodeArtifact((await store.get(stored)) as Uint8Array));
    const older = payload.slice();
    older[4] = 1;
    await store.delete(stored);
    await store.put(stored, await encodeArtifact(manifest, older, first.key));
    const again = await hub({ dir: first.dir, store, key: first.key });
    const served = (await (await again.service.snapshot('filter'))?.readAll()) as Uint8Array;
    expect(unwrap(decodeArtifact(served)).manifest.to).toBe(1);
    expect(filterSnapshotWidths(served.subarray(payloadOffsetOf(served)))).toBeDefined();
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
      const before = await Promise.all(
        FEED_NAMES.map(async (f) => await (await first.service.snapshot(f))?.readAll()),
      );
      const deltaBefore = artifactOf(await first.service.delta('url', 1)).bytes;
      const keys = await first.store.list('snapshots/');
      await first.close();
      expect(first.errors).toEqual([]);

      const second = await openTestHub({ dir, key: first.key });
      hubs.push(second);
      const after = await Promise.all(
        FEED_NAMES.map(async (f) => await (await second.service.snapshot(f))?.readAll()),
      );
      expect(after.map(hex)).toEqual(before.map(hex));
      expect(hex(artifactOf(await second.service.delta('url', 1)).bytes)).toBe(hex(deltaBefore));
      expect(await second.store.list('snapshots/')).toEqual(keys);
      // Versions the stored snapshots lack when it starts: it starts from the stored snapshots (no
      // scan, so no new snapshot) and follows the change-log tail like any commit.
      await second.order('malware', ['while-down.example']);
      await second.close();
      const third = await openTestHub({ dir, key: first.key });
      hubs.push(third);
      expect(third.service.feeds().map((f) => f.snapshotVersion)).toEqual([2, 2, 2]);
      expect(third.service.version).toBe(3);
      const tail = artifactOf(await third.service.delta('dns', 2));
      expect(new TextDecoder().decode(tail.bytes.subarray(payloadOffsetOf(tail.bytes)))).toBe(
        '+\twhile-down.example/\tdomain\tmalware\tblock\n',
      );
      expect(third.errors).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('scans at start instead when the stored filter mirror keys are missing or do not match', async () => {
    const dir = join(tmpdir(), `takedown-seed-${process.pid}-${Date.now()}`);
    try {
      const first = await openTestHub({ dir });
      await first.order('malware', ['one.example']);
      await first.service.rebuildSnapshots();
      await first.order('malware', ['two.example']);
      const [keys] = await first.store.list('mirrors/');
      expect(keys).toBe('mirrors/0000000000000001.keys');
      await first.close();
      // Keys of another state: the seed check refuses them and the start-up scan stores version 2.
      await first.store.delete(keys as string);
      await first.store.put(keys as string, new Uint8Array(new Float64Array([1, 12345]).buffer));
      const second = await openTestHub({ dir, key: first.key });
      hubs.push(second);
      expect(second.service.feeds().map((f) => f.snapshotVersion)).toEqual([2, 2, 2]);
      expect(await second.store.list('mirrors/')).toEqual(['mirrors/0000000000000002.keys']);
      expect(second.errors).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('scans at start instead when a stored plain snapshot does not match its manifest', async () => {
    const dir = join(tmpdir(), `takedown-seed-bytes-${process.pid}-${Date.now()}`);
    try {
      const first = await openTestHub({ dir });
      await first.order('malware', ['one.example']);
      await first.service.rebuildSnapshots();
      await first.order('malware', ['two.example']);
      await first.close();
      const key = snapshotKey('url', 1);
      await damageStored(first.store, key);
      const second = await openTestHub({ dir, key: first.key });
      hubs.push(second);
      expect(second.service.feeds().map((f) => f.snapshotVersion)).toEqual([2, 2, 2]);
      expect(second.errors).toEqual([]);
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
    expect(
      decodeArtifact((await (await fresh.service.snapshot('dns'))?.readAll()) as Uint8Array),
    ).toMatchObject({
      ok: true,
      value: { manifest: { to: 0, entryCount: 0 } },
    });
  });

  it('answers the hash search with the keys blocked at the latest version', async () => {
    const h = await hub();
    await h.order('csam', ['blocked.example']);
    await h.order('csam', ['http://blocked.example/secret/page']);
    const bits = { root: 30, path: 34 };
    const state = (await stateOf('filter', h.entries(), bits)) as FilterState;
    const found = state.matchingKeys(['blocked.example/', 'blocked.example/secret/page']);
    const [root] = found.root as [number];
    const [path] = found.path as [number];
    expect(h.service.confirm(bits, { root: [root, 12345, root], path: [path, 7] })).toEqual({
      version: 2,
      blocked: { root: [root], path: [path] },
    });
    // A key is confirmed in its own class only.
    expect(h.service.confirm({ root: 34, path: 34 }, { root: [path], path: [] })).toEqual({
      version: 2,
      blocked: { root: [], path: [] },
    });
  });
});
