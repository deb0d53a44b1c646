import { describe, expect, it } from 'vitest';
import { decodeArtifact, encodeArtifact, payloadOffsetOf } from '../../src/core/artifact.ts';
import { generateSigningKey } from '../../src/core/keys.ts';
import { encodeSnapshot } from '../../src/core/plain-payload.ts';
import { plainChecksum } from '../../src/core/plain-state.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import { MemoryArtifactStore } from '../../src/feeds/memory-artifact-store.ts';
import { SnapshotCatalog, snapshotGzipKey, snapshotKey } from '../../src/feeds/snapshot-catalog.ts';

const key = await generateSigningKey();

/** A signed `dns` snapshot artifact of `count` names at `version`. */
async function dnsSnapshot(version: number, count: number): Promise<Uint8Array> {
  const entries = Array.from(
    { length: count },
    (_, i): FeedEntry => ({
      expression: `n${String(i).padStart(4, '0')}.example/`,
      kind: 'domain',
      category: 'malware',
      action: 'block',
    }),
  );
  const manifest = {
    kind: 'snapshot' as const,
    feed: 'dns',
    from: 0,
    to: version,
    createdAt: 1_000,
    expiresAt: 2_000,
    entryCount: count,
    checksum: plainChecksum(entries),
  };
  return encodeArtifact(manifest, encodeSnapshot(entries), key);
}

/** Stores a dns snapshot artifact and registers it, as a scan does. */
async function addSnapshot(store: MemoryArtifactStore, catalog: SnapshotCatalog, bytes: Uint8Array) {
  const decoded = decodeArtifact(bytes);
  if (!decoded.ok) throw new Error(decoded.error.message);
  await store.put(snapshotKey('dns', decoded.value.manifest.to), bytes);
  await catalog.addStored('dns', decoded.value.manifest.to);
}

describe('the snapshot catalog', () => {
  it('holds heads and manifests, not payloads', async () => {
    const store = new MemoryArtifactStore();
    const catalog = new SnapshotCatalog(store, 2);
    const bytes = await dnsSnapshot(3, 500);
    await addSnapshot(store, catalog, bytes);
    const latest = catalog.latest('dns');
    expect(latest?.head.length).toBe(payloadOffsetOf(bytes));
    // A copy of the head, not a view that would keep the whole artifact.
    expect(latest?.head.buffer.byteLength).toBe(payloadOffsetOf(bytes));
    expect(latest?.manifest.payloadLength).toBe(bytes.length - payloadOffsetOf(bytes));

    const loaded = new SnapshotCatalog(store, 2);
    await loaded.load(['dns'], 3);
    expect(loaded.latest('dns')?.head).toEqual(latest?.head);
    expect(loaded.latest('dns')?.head.buffer.byteLength).toBe(payloadOffsetOf(bytes));
  });

  it('deletes at load a stored snapshot whose file is shorter or longer than its manifest says', async () => {
    const store = new MemoryArtifactStore();
    const whole = await dnsSnapshot(2, 50);
    const cut = await dnsSnapshot(4, 50);
    const grown = await dnsSnapshot(3, 50);
    await store.put(snapshotKey('dns', 2), whole);
    await store.put(snapshotKey('dns', 3), Uint8Array.from([...grown, 0x0a]));
    await store.put(snapshotKey('dns', 4), cut.subarray(0, cut.length - 1));
    const catalog = new SnapshotCatalog(store, 3);
    await catalog.load(['dns'], 10);
    expect(catalog.retained('dns')).toEqual([{ version: 2 }]);
    expect(catalog.latest('dns')?.version).toBe(2);
    expect(await store.list('snapshots/dns/')).toEqual([snapshotKey('dns', 2)]);
  });

  it('deletes a snapshot with its payload gzip when it is pruned or discarded', async () => {
    const store = new MemoryArtifactStore();
    const catalog = new SnapshotCatalog(store, 1);
    const first = await dnsSnapshot(1, 10);
    await addSnapshot(store, catalog, first);
    const gzipKey = snapshotGzipKey('dns', 1, catalog.latest('dns')?.manifest.payloadSha256 as string);
    await store.put(gzipKey, Uint8Array.of(1));
    await addSnapshot(store, catalog, await dnsSnapshot(2, 11));
    expect(await store.list('snapshots/dns/')).toEqual([snapshotKey('dns', 2)]);

    await catalog.discard('dns', 2);
    expect(catalog.latest('dns')).toBeUndefined();
    expect(catalog.retained('dns')).toEqual([]);
    expect(await store.list('snapshots/dns/')).toEqual([]);
  });
});
