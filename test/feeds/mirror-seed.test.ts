import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeArtifact } from '../../src/core/artifact.ts';
import { sha256Hex } from '../../src/core/bytes.ts';
import type { ArtifactStore } from '../../src/feeds/artifact-store.ts';
import { DirectoryArtifactStore } from '../../src/feeds/directory-artifact-store.ts';
import { scanRegistry } from '../../src/feeds/feed-scan.ts';
import type { DeltaAnswer } from '../../src/feeds/feed-service.ts';
import type { HeldArtifact } from '../../src/feeds/served-artifact.ts';
import { snapshotKey } from '../../src/feeds/snapshot-catalog.ts';
import { damageStored, openTestHub, type TestHub } from './feed-hub.ts';

// A restart seeds the mirrors from the stored snapshots (checked in worker threads, indexed by their line
// ends) and follows the change-log tail: the state it reaches must be the one a full scan of the registry
// reads, checksum for checksum.

const hubs: TestHub[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function artifactOf(answer: DeltaAnswer): HeldArtifact {
  if (answer.kind !== 'artifact') throw new Error(`expected an artifact, got ${answer.kind}`);
  return answer.artifact;
}

describe('a start from stored snapshots', () => {
  it('with a change-log tail holds the state and checksums a full scan reads', async () => {
    const dir = join(tmpdir(), `takedown-seed-tail-${process.pid}-${Date.now()}`);
    dirs.push(dir);
    const first = await openTestHub({ dir });
    const kept = Array.from({ length: 300 }, (_, i) => `kept-${i}.example`);
    const gone = await first.order('malware', ['gone.example', 'http://gone.example/x']);
    await first.order('phishing', [...kept, 'http://kept-1.example/login?id=1']);
    await first.order('csam', ['hidden.example']);
    await first.service.rebuildSnapshots();
    const stored = first.service.feeds()[0]?.snapshotVersion as number;
    await first.close();

    // The tail: versions committed while no hub ran.
    const second = await openTestHub({ dir, key: first.key });
    hubs.push(second);
    await second.order('fraud', ['while-down.example', 'http://while-down.example/a/b']);
    await second.revoke(gone.id);
    await second.close();
    hubs.pop();

    const third = await openTestHub({ dir, key: first.key });
    hubs.push(third);
    expect(third.service.feeds().map((f) => f.snapshotVersion)).toEqual([stored, stored, stored]);
    const version = third.registry.currentVersion();
    expect(third.service.version).toBe(version);
    const scan = await scanRegistry(third.registry, {
      confidential: ['csam'],
      signing: { key: first.key, ttlMs: 3_600_000 },
      fpr: 1 / 32,
      minBits: third.service.feeds()[2]?.bits,
      staging: await third.store.staging(),
    });
    expect(scan.version).toBe(version);
    for (const feed of ['dns', 'url', 'filter'] as const) {
      const delta = artifactOf(await third.service.delta(feed, stored)).manifest;
      expect(delta.to).toBe(version);
      expect(delta.checksum).toBe(scan.snapshots[feed].checksum);
      expect(delta.entryCount).toBe(scan.snapshots[feed].entryCount);
    }
    expect(third.errors).toEqual([]);
  });

  it.each(['url', 'dns'] as const)(
    'replaces a damaged stored %s snapshot of the current version instead of serving it',
    async (feed) => {
      const dir = join(tmpdir(), `takedown-seed-damaged-${feed}-${process.pid}-${Date.now()}`);
      dirs.push(dir);
      const first = await openTestHub({ dir });
      await first.order('malware', ['one.example', 'two.example']);
      await first.service.rebuildSnapshots();
      const version = first.registry.currentVersion();
      await first.close();
      const key = snapshotKey(feed, version);
      await damageStored(first.store, key);

      const second = await openTestHub({ dir, key: first.key });
      hubs.push(second);
      const served = await second.service.snapshot(feed);
      const decoded = decodeArtifact((await served?.readAll()) ?? new Uint8Array());
      if (!decoded.ok) throw new Error(decoded.error.message);
      expect(decoded.value.manifest.to).toBe(version);
      expect(await sha256Hex(decoded.value.payload)).toBe(decoded.value.manifest.payloadSha256);
      expect(second.errors).toEqual([]);
    },
  );

  it('reads only the newest url snapshot whole and streams the dns one; the others as far as their header', async () => {
    const dir = join(tmpdir(), `takedown-seed-heads-${process.pid}-${Date.now()}`);
    dirs.push(dir);
    const first = await openTestHub({ dir });
    const versions: number[] = [];
    for (let i = 0; i < 3; i++) {
      await first.order('malware', [`round-${i}.example`, `http://round-${i}.example/p`]);
      await first.service.rebuildSnapshots();
      versions.push(first.registry.currentVersion());
    }
    await first.close();

    // The hub's own directory store, counting what it is asked for.
    const wholeReads: string[] = [];
    const streamed: string[] = [];
    const store = new DirectoryArtifactStore(join(dir, 'artifacts'));
    const counted: ArtifactStore = {
      put: (key, bytes) => store.put(key, bytes),
      putFile: (key, path) => store.putFile(key, path),
      staging: () => store.staging(),
      putStream: (key, parts) => store.putStream(key, parts),
      get: (key) => {
        wholeReads.push(key);
        return store.get(key);
      },
      head: (key, length) => store.head(key, length),
      stream: (key, offset) => {
        streamed.push(key);
        return store.stream(key, offset);
      },
      size: (key) => store.size(key),
      list: (prefix) => store.list(prefix),
      delete: (key) => store.delete(key),
    };
    const second = await openTestHub({ dir, key: first.key, store: counted });
    hubs.push(second);
    const newest = versions.at(-1) as number;
    // The url payload is what the mirrors keep; the dns one is only hashed on its way through.
    expect(wholeReads.filter((key) => key.startsWith('snapshots/'))).toEqual([snapshotKey('url', newest)]);
    expect(streamed).toEqual([snapshotKey('dns', newest)]);
    expect(second.service.feeds().map((f) => f.oldestDeltaBase)).toEqual([
      versions[0],
      versions[0],
      versions[0],
    ]);
    // A filter consumer at the oldest retained version gets its delta at that snapshot's key widths.
    const delta = artifactOf(await second.service.delta('filter', versions[0] as number));
    expect(delta.manifest.from).toBe(versions[0]);
    expect(second.errors).toEqual([]);
  });
});
