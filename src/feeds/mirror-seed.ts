/**
 * Fast start: the hub's mirrors seeded from its latest stored snapshots instead of a scan of the
 * registry. The plain snapshots hold their entries; the filter snapshot holds only narrowed keys, so
 * every scan also stores the filter mirror's wide keys (`mirrors/<version>.keys`) beside its snapshots.
 * A worker thread checks the payloads against the signed manifests and indexes them; on
 * any mismatch or missing piece the hub falls back to a scan. The change-log tail after the snapshots'
 * version is then followed like any commit.
 */
import { payloadOffsetOf } from '../core/artifact.ts';
import type { KeyWidths, PerClass } from '../core/confirm.ts';
import { PlainState } from '../core/plain-state.ts';
import { SetHash } from '../core/set-hash.ts';
import { runWorkerTask } from '../util/ts-worker.ts';
import type { ArtifactStore } from './artifact-store.ts';
import type { FeedMirrors } from './feed-mirrors.ts';
import { FilterMirror } from './filter-mirror.ts';
import type { SnapshotCatalog, StoredSnapshot } from './snapshot-catalog.ts';

const PREFIX = 'mirrors/';
export const mirrorKeysKey = (version: number) => `${PREFIX}${String(version).padStart(16, '0')}.keys`;

/** The wide keys as stored: the root key count, then the root keys, then the path keys (float64, LE). */
export function encodeWideKeys(wide: PerClass<Float64Array>): Uint8Array {
  const all = new Float64Array(1 + wide.root.length + wide.path.length);
  all[0] = wide.root.length;
  all.set(wide.root, 1);
  all.set(wide.path, 1 + wide.root.length);
  return new Uint8Array(all.buffer);
}

/** The wide keys of a stored file, as views into it when it is 8-byte aligned (else into a copy). */
export function decodeWideKeys(bytes: Uint8Array): PerClass<Float64Array> | null {
  if (bytes.byteLength % 8 !== 0 || bytes.byteLength < 8) return null;
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const all = new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
  const roots = all[0] as number;
  if (!Number.isSafeInteger(roots) || roots < 0 || roots > all.length - 1) return null;
  return { root: all.subarray(1, 1 + roots), path: all.subarray(1 + roots) };
}

/** Stores the wide keys file (`encodeWideKeys`) of a scanned version and drops those of older ones. */
export async function storeWideKeys(store: ArtifactStore, version: number, file: Uint8Array): Promise<void> {
  const key = mirrorKeysKey(version);
  for (const old of await store.list(PREFIX)) if (old !== key) await store.delete(old);
  await store.put(key, file);
}

/** A stored plain payload and what its manifest announces. */
export interface PlainSeedCheck {
  feed: 'dns' | 'url';
  payload: Uint8Array;
  payloadSha256: string;
  checksum: string;
  entryCount: number;
}

/** What one worker checks: some plain payloads and, maybe, the wide keys against the filter snapshot. */
export interface SeedCheckRequest {
  plain: PlainSeedCheck[];
  filter?: { wide: PerClass<Float64Array>; bits: KeyWidths; checksum: string };
}

export type SeedCheck =
  | { ok: true; plain: Partial<Record<'dns' | 'url', { starts: Uint32Array; sum: Uint32Array }>> }
  | { ok: false; reason: string };

/**
 * The mirrors at the latest stored snapshots' version, or a reason why they cannot be used (then the
 * caller scans).
 */
export async function seedFromStore(
  catalog: SnapshotCatalog,
  store: ArtifactStore,
): Promise<{ mirrors: FeedMirrors } | { reason: string }> {
  const dns = catalog.latest('dns');
  const url = catalog.latest('url');
  const filter = catalog.latest('filter');
  if (!dns || !url || !filter) return { reason: 'no stored snapshots' };
  const version = dns.version;
  if (url.version !== version || filter.version !== version || !filter.bits)
    return { reason: 'stored snapshots of different versions' };
  const keyBytes = await store.get(mirrorKeysKey(version));
  const wide = keyBytes ? decodeWideKeys(keyBytes) : null;
  if (!wide) return { reason: `no filter mirror keys stored at version ${version}` };
  const payload = (s: StoredSnapshot) => s.bytes.subarray(payloadOffsetOf(s.bytes));
  const plainOf = (s: StoredSnapshot, feed: 'dns' | 'url'): PlainSeedCheck => ({
    feed,
    payload: payload(s),
    payloadSha256: s.manifest.payloadSha256,
    checksum: s.manifest.checksum,
    entryCount: s.manifest.entryCount,
  });
  // Two threads, one per core: `dns` in one, `url` and the filter keys in the other.
  const requests: SeedCheckRequest[] = [
    { plain: [plainOf(dns, 'dns')] },
    { plain: [plainOf(url, 'url')], filter: { wide, bits: filter.bits, checksum: filter.manifest.checksum } },
  ];
  const checks = await Promise.all(
    requests.map((request) =>
      runWorkerTask<SeedCheck>(new URL('./seed-worker.ts', import.meta.url), request, 'mirror seed check'),
    ),
  );
  const failed = checks.find((check) => !check.ok);
  if (failed && !failed.ok) return { reason: failed.reason };
  const indexed: Record<'dns' | 'url', { starts: Uint32Array; sum: Uint32Array }> = Object.assign(
    {},
    ...checks.map((check) => (check.ok ? check.plain : {})),
  );
  const state = (s: StoredSnapshot, feed: 'dns' | 'url') =>
    PlainState.fromIndexed(payload(s), indexed[feed].starts, SetHash.fromWords(indexed[feed].sum));
  return {
    mirrors: {
      version,
      committedAt: dns.manifest.createdAt,
      dns: state(dns, 'dns'),
      url: state(url, 'url'),
      filter: FilterMirror.fromWideKeys(wide),
    },
  };
}
