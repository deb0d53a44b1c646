import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeArtifact, encodeArtifact, payloadOffsetOf } from '../../src/core/artifact.ts';
import { DEFAULT_BLOOM_FPR } from '../../src/core/confirm.ts';
import { encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { generateSigningKey, type SigningKey } from '../../src/core/keys.ts';
import { encodeSnapshot, indexSnapshot } from '../../src/core/plain-payload.ts';
import { setHashOfLines } from '../../src/core/plain-state.ts';
import type { Category, FeedName } from '../../src/core/types.ts';
import { storedSnapshotManifest } from '../../src/feeds/artifact-builders.ts';
import { type FeedScan, scanRegistry } from '../../src/feeds/feed-scan.ts';
import { wideKeysOf } from '../../src/feeds/filter-mirror.ts';
import { decodeWideKeys } from '../../src/feeds/mirror-seed.ts';
import { checkpointSource } from '../../src/registry/checkpoints.ts';
import type { Registry } from '../../src/registry/index.ts';
import { must, tempRegistry } from '../registry/helpers.ts';

// The scan reads the registry once, in pages, and streams both plain payloads into artifact files, hashing
// them as it goes. Its files must be exactly the artifacts the in-memory encoders give for the same registry.

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function stagingDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'takedown-scan-'));
  dirs.push(dir);
  return dir;
}

/** Imports `targets` as one order of `category`. */
function importTargets(registry: Registry, reference: string, category: Category, targets: string[]): number {
  const session = must(registry.beginImport({ reference, authority: 'MIC', category }, 'test'));
  session.add(targets);
  return session.commit().order.id;
}

/** What the scan must produce, computed by the encoders that take sorted entries. */
function expectedPlain(registry: Registry, kinds: ('domain' | 'url')[] | undefined) {
  const payload = encodeSnapshot(
    registry.activeEntries({ ...(kinds && { kinds }), excludeCategories: ['csam'] }),
  );
  const starts = indexSnapshot(payload);
  if (!starts.ok) throw new Error(starts.error.message);
  return { payload, checksum: setHashOfLines(payload, starts.value).hex() };
}

/** The artifact the in-memory path signs for `payload`, as the scan dates and signs its own. */
async function inMemoryArtifact(
  feed: FeedName,
  scan: FeedScan,
  payload: Uint8Array,
  key: SigningKey,
  checkpoint: string,
): Promise<Uint8Array> {
  const { entryCount, checksum } = scan.snapshots[feed];
  const manifest = storedSnapshotManifest(feed, scan, { entryCount, checksum }, 3_600_000, checkpoint);
  return encodeArtifact(manifest, payload, key);
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('scanRegistry', () => {
  it('streams artifacts byte-identical to the in-memory encoders, over several pages, and nothing else', async () => {
    const { registry } = tempRegistry({ protectedDomains: [] });
    // More rows than one page (4096), domains and URLs interleaved in expression order, a confidential
    // category, and revoked entries that must not appear.
    const domains = Array.from({ length: 6000 }, (_, i) => `site-${i}.example`);
    const urls = Array.from({ length: 3000 }, (_, i) => `http://site-${i * 2}.example/path/${i}?q=${i}`);
    importTargets(registry, 'scan-domains', 'phishing', domains);
    importTargets(registry, 'scan-urls', 'malware', urls);
    importTargets(registry, 'scan-csam', 'csam', ['hidden-a.example', 'http://hidden-b.example/x']);
    const gone = importTargets(registry, 'scan-gone', 'fraud', ['gone-1.example', 'gone-2.example']);
    must(registry.revokeOrder(gone, 'test', 'test'));

    const key = await generateSigningKey();
    const staging = await stagingDir();
    const origin = 'takedown.test/log';
    const scan = await scanRegistry(registry, {
      confidential: ['csam'],
      signing: { key, ttlMs: 3_600_000 },
      fpr: DEFAULT_BLOOM_FPR,
      logOrigin: origin,
      staging,
    });
    expect(scan.version).toBe(registry.currentVersion());
    const checkpoint = (await checkpointSource(registry, key, origin)(scan.version))?.note ?? '';
    expect(checkpoint).not.toBe('');

    const dns = expectedPlain(registry, ['domain']);
    const url = expectedPlain(registry, undefined);
    expect(scan.snapshots.dns.entryCount).toBe(6000);
    for (const [feed, expected] of [
      ['dns', dns],
      ['url', url],
    ] as const) {
      const scanned = scan.snapshots[feed];
      expect(scanned.checksum).toBe(expected.checksum);
      const file = new Uint8Array(await readFile(scanned.file));
      expect(same(file.subarray(payloadOffsetOf(file)), expected.payload)).toBe(true);
      expect(same(file, await inMemoryArtifact(feed, scan, expected.payload, key, checkpoint))).toBe(true);
      const decoded = decodeArtifact(file);
      if (!decoded.ok) throw new Error(decoded.error.message);
      expect(decoded.value.manifest.payloadSha256).toBe(scanned.payloadSha256);
    }
    // The filter covers every active expression, the confidential ones included.
    const all = [...registry.activeEntries()].map((e) => e.expression);
    expect(all).toHaveLength(6000 + 3000 + 2);
    const filter = await encodeFilterSnapshot(all, {
      fpr: DEFAULT_BLOOM_FPR,
      bits: scan.snapshots.filter.bits,
    });
    expect(scan.snapshots.filter.checksum).toBe(filter.checksum);
    const filterFile = new Uint8Array(await readFile(scan.snapshots.filter.file));
    expect(same(filterFile, await inMemoryArtifact('filter', scan, filter.payload, key, checkpoint))).toBe(
      true,
    );
    const wide = wideKeysOf(all);
    const scannedWide = decodeWideKeys(scan.wideKeysFile);
    expect([...(scannedWide?.root ?? [])]).toEqual([...wide.root]);
    expect([...(scannedWide?.path ?? [])]).toEqual([...wide.path]);
    // The staging directory holds the three artifacts and no temporary file.
    expect((await readdir(staging)).sort()).toEqual(['dns.tkd', 'filter.tkd', 'url.tkd']);
  });

  it('scans an empty registry into empty payloads', async () => {
    const { registry } = tempRegistry();
    const key = await generateSigningKey();
    const scan = await scanRegistry(registry, {
      confidential: ['csam'],
      signing: { key, ttlMs: 3_600_000 },
      fpr: DEFAULT_BLOOM_FPR,
      staging: await stagingDir(),
    });
    const empty = expectedPlain(registry, undefined);
    const file = new Uint8Array(await readFile(scan.snapshots.url.file));
    expect(file.length).toBe(payloadOffsetOf(file));
    expect(same(file, await inMemoryArtifact('url', scan, new Uint8Array(0), key, ''))).toBe(true);
    expect(scan.snapshots.url.checksum).toBe(empty.checksum);
    expect(scan.snapshots.dns.entryCount).toBe(0);
  });

  it('removes every file it wrote when it fails', async () => {
    const { registry } = tempRegistry({ protectedDomains: [] });
    importTargets(registry, 'fail', 'phishing', ['a.example', 'http://b.example/x']);
    const staging = await stagingDir();
    // A false-positive rate of 0 fails the filter, after both plain artifacts are written.
    await expect(
      scanRegistry(registry, {
        confidential: ['csam'],
        signing: { key: await generateSigningKey(), ttlMs: 3_600_000 },
        fpr: 0,
        staging,
      }),
    ).rejects.toThrow(RangeError);
    expect(await readdir(staging)).toEqual([]);
  });
});
