import { describe, expect, it } from 'vitest';
import { payloadOffsetOf } from '../../src/core/artifact.ts';
import { DEFAULT_BLOOM_FPR } from '../../src/core/confirm.ts';
import { encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { generateSigningKey } from '../../src/core/keys.ts';
import { encodeSnapshot, indexSnapshot } from '../../src/core/plain-payload.ts';
import { setHashOfLines } from '../../src/core/plain-state.ts';
import type { Category } from '../../src/core/types.ts';
import { scanRegistry } from '../../src/feeds/feed-scan.ts';
import { wideKeysOf } from '../../src/feeds/filter-mirror.ts';
import type { Registry } from '../../src/registry/index.ts';
import { must, tempRegistry } from '../registry/helpers.ts';

// The scan reads the registry once, in pages, and writes both plain payloads, their indexes and checksums as it
// goes. It must give exactly what the entry-by-entry encoders give for the same registry.

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
  return { payload, starts: starts.value, checksum: setHashOfLines(payload, starts.value).hex() };
}

describe('scanRegistry', () => {
  it('writes payloads, indexes and checksums byte-identical to the entry encoders, over several pages', async () => {
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
    const scan = await scanRegistry(registry, {
      confidential: ['csam'],
      signing: { key, ttlMs: 3_600_000 },
      fpr: DEFAULT_BLOOM_FPR,
    });

    const dns = expectedPlain(registry, ['domain']);
    const url = expectedPlain(registry, undefined);
    expect(scan.snapshots.dns.entryCount).toBe(6000);
    for (const [feed, expected] of [
      ['dns', dns],
      ['url', url],
    ] as const) {
      const scanned = scan.snapshots[feed];
      expect(Buffer.from(scanned.payload).equals(Buffer.from(expected.payload))).toBe(true);
      expect([...(scanned.starts ?? [])]).toEqual([...expected.starts]);
      expect(scanned.checksum).toBe(expected.checksum);
      // The stored artifact carries the same payload.
      const artifact = scan.artifacts[feed];
      expect(
        Buffer.from(artifact.subarray(payloadOffsetOf(artifact))).equals(Buffer.from(expected.payload)),
      ).toBe(true);
    }
    // The filter covers every active expression, the confidential ones included.
    const all = [...registry.activeEntries()].map((e) => e.expression);
    expect(all).toHaveLength(6000 + 3000 + 2);
    const filter = await encodeFilterSnapshot(all, {
      fpr: DEFAULT_BLOOM_FPR,
      bits: scan.snapshots.filter.bits,
    });
    expect(Buffer.from(scan.snapshots.filter.payload).equals(Buffer.from(filter.payload))).toBe(true);
    expect(scan.snapshots.filter.checksum).toBe(filter.checksum);
    const wide = wideKeysOf(all);
    expect([...scan.filterWide.root]).toEqual([...wide.root]);
    expect([...scan.filterWide.path]).toEqual([...wide.path]);
  });

  it('scans an empty registry into empty payloads', async () => {
    const { registry } = tempRegistry();
    const scan = await scanRegistry(registry, {
      confidential: ['csam'],
      signing: { key: await generateSigningKey(), ttlMs: 3_600_000 },
      fpr: DEFAULT_BLOOM_FPR,
    });
    const empty = expectedPlain(registry, undefined);
    expect(scan.snapshots.url.payload).toHaveLength(0);
    expect(scan.snapshots.url.checksum).toBe(empty.checksum);
    expect(scan.snapshots.dns.entryCount).toBe(0);
  });
});
