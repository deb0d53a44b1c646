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
import { type SnapshotCatalog, type StoredSnapshot, snapshotKey } from './snapshot-catalog.ts';

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

/** A stored plain snapshot (its artifact's bytes, lent by the catalog) and what its manifest announces. */
export interface PlainSeedCheck {
  feed: 'dns' | 'url';
  artifact: Uint8Array;
  payloadSha256: string;
  checksum: string;
  entryCount: number;
}

/**
 * What one worker checks: one plain snapshot and, maybe, the stored wide keys (`encodeWideKeys`) against the
 * filter snapshot. The bytes move to the worker and come back in the answer.
 */
export interface SeedCheckRequest {
  plain: PlainSeedCheck;
  filter?: { wideKeysFile: Uint8Array; bits: KeyWidths; checksum: string };
}

export type SeedCheck =
  | { ok: true; artifact: Uint8Array; starts: Uint32Array; sum: Uint32Array; wideKeysFile?: Uint8Array }
  /** `damaged`: the stored plain snapshot itself does not match its manifest. */
  | { ok: false; reason: string; damaged: boolean };

/** The buffers a seed check moves between threads. */
export function seedTransfers(bytes: readonly (ArrayBufferView | undefined)[]): ArrayBuffer[] {
  return bytes.flatMap((b) => (b ? [b.buffer as ArrayBuffer] : []));
}

/**
 * The mirrors at the latest stored snapshots' version, or a reason why they cannot be used (then the
 * caller scans). The plain snapshots are checked in two worker threads at once, one per core, their bytes
 * lent by the catalog rather than copied: at 10M entries they are most of the hub's memory.
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
  if (!keyBytes || !decodeWideKeys(keyBytes))
    return { reason: `no filter mirror keys stored at version ${version}` };
  const bits = filter.bits;
  let wideKeysFile: Uint8Array = keyBytes;
  const check = (stored: StoredSnapshot, feed: 'dns' | 'url', withFilter: boolean) =>
    catalog.lend(feed, async (artifact) => {
      const request: SeedCheckRequest = {
        plain: {
          feed,
          artifact,
          payloadSha256: stored.manifest.payloadSha256,
          checksum: stored.manifest.checksum,
          entryCount: stored.manifest.entryCount,
        },
        ...(withFilter && { filter: { wideKeysFile, bits, checksum: filter.manifest.checksum } }),
      };
      const transfer = seedTransfers([artifact, withFilter ? wideKeysFile : undefined]);
      const checked = await runWorkerTask<SeedCheck>(
        new URL('./seed-worker.ts', import.meta.url),
        request,
        'mirror seed check',
        undefined,
        transfer,
      );
      if (!checked.ok) {
        // Its bytes stayed in the worker; a damaged file goes too, so that a scan of this very version can
        // store it again.
        if (checked.damaged) await store.delete(snapshotKey(feed, version));
        throw new SeedRefused(checked.reason);
      }
      if (checked.wideKeysFile) wideKeysFile = checked.wideKeysFile;
      const payload = checked.artifact.subarray(payloadOffsetOf(checked.artifact));
      const state = PlainState.fromIndexed(payload, checked.starts, SetHash.fromWords(checked.sum));
      return { bytes: checked.artifact, value: state };
    });
  const settled = await Promise.allSettled([check(dns, 'dns', false), check(url, 'url', true)]);
  const refused = settled.find((s) => s.status === 'rejected');
  if (refused) {
    const reason = (refused as PromiseRejectedResult).reason as Error;
    if (reason instanceof SeedRefused) return { reason: reason.message };
    throw reason;
  }
  const [dnsState, urlState] = settled.map((s) => (s as PromiseFulfilledResult<PlainState>).value);
  return {
    mirrors: {
      version,
      committedAt: dns.manifest.createdAt,
      dns: dnsState as PlainState,
      url: urlState as PlainState,
      filter: FilterMirror.fromWideKeys(decodeWideKeys(wideKeysFile) as PerClass<Float64Array>),
    },
  };
}

/** A stored snapshot the seed check refused: the caller scans instead. */
class SeedRefused extends Error {
  override name = 'SeedRefused';
}
