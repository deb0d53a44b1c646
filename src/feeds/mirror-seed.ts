/**
 * Fast start: the hub's mirrors seeded from its latest stored snapshots instead of a scan of the
 * registry. The plain snapshots hold their entries; the filter snapshot holds only narrowed keys, so
 * every scan also stores the filter mirror's wide keys (`mirrors/<version>.keys`) beside its snapshots.
 * The payloads are checked against the signed manifests and the `url` one indexed (see seedFromStore); on
 * any mismatch or missing piece the hub falls back to a scan. The change-log tail after the snapshots'
 * version is then followed like any commit.
 */
import { createHash } from 'node:crypto';
import { payloadOffsetOf } from '../core/artifact.ts';
import type { KeyWidths, PerClass } from '../core/confirm.ts';
import { PlainState } from '../core/plain-state.ts';
import { SetHash } from '../core/set-hash.ts';
import { runWorkerTask } from '../util/ts-worker.ts';
import type { ArtifactStore } from './artifact-store.ts';
import type { FeedMirrors } from './feed-mirrors.ts';
import { FilterMirror } from './filter-mirror.ts';
import { type SnapshotCatalog, snapshotKey } from './snapshot-catalog.ts';

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

/** The stored `url` snapshot (its artifact's bytes) and what its manifest announces. */
export interface UrlSeedCheck {
  artifact: Uint8Array;
  payloadSha256: string;
  entryCount: number;
}

/**
 * What the seed worker checks: the stored `url` snapshot and the stored wide keys (`encodeWideKeys`) against
 * the filter snapshot. The bytes move to the worker and come back in the answer.
 */
export interface SeedCheckRequest {
  url: UrlSeedCheck;
  filter: { wideKeysFile: Uint8Array; bits: KeyWidths; checksum: string };
}

export type SeedCheck =
  | {
      ok: true;
      artifact: Uint8Array;
      starts: Uint32Array;
      /** The runs of domain lines ([from, to) line pairs): the `dns` feed's lines (domainLineRuns). */
      domainRuns: Uint32Array;
      /** The SHA-256 (hex) of the domain lines in order: the `dns` payload's digest if it is theirs. */
      domainSha256: string;
      domainLines: number;
      wideKeysFile: Uint8Array;
    }
  /** `damaged`: the stored url snapshot itself does not match its manifest. */
  | { ok: false; reason: string; damaged: boolean };

/** The buffers a seed check moves between threads. */
export function seedTransfers(bytes: readonly (ArrayBufferView | undefined)[]): ArrayBuffer[] {
  return bytes.flatMap((b) => (b ? [b.buffer as ArrayBuffer] : []));
}

/**
 * The mirrors at the latest stored snapshots' version, or a reason why they cannot be used (then the
 * caller scans). The `url` snapshot is read from the store and checked in a worker thread, which also
 * finds its domain lines; the `dns` mirror is those lines of the `url` payload, sharing its bytes
 * (PlainState.fromLineRuns). Meanwhile the stored `dns` snapshot is streamed through SHA-256 here, chunk
 * by chunk, never held: it must match its manifest (else it is damaged), and its manifest's digest must
 * be that of the url payload's domain lines, so the derived state is the signed `dns` payload byte for
 * byte, and its checksum the one that manifest carries. A damaged snapshot is discarded, so that a scan
 * of this very version stores it again.
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
  const wideKeysFile = await store.get(mirrorKeysKey(version));
  if (!wideKeysFile || !decodeWideKeys(wideKeysFile))
    return { reason: `no filter mirror keys stored at version ${version}` };
  const artifact = await store.get(snapshotKey('url', version));
  if (!artifact) return { reason: `stored url snapshot ${version} is gone` };
  const request: SeedCheckRequest = {
    url: { artifact, payloadSha256: url.manifest.payloadSha256, entryCount: url.manifest.entryCount },
    filter: { wideKeysFile, bits: filter.bits, checksum: filter.manifest.checksum },
  };
  const [checked, dnsDigest] = await Promise.all([
    runWorkerTask<SeedCheck>(
      new URL('./seed-worker.ts', import.meta.url),
      request,
      'mirror seed check',
      undefined,
      seedTransfers([artifact, wideKeysFile]),
    ),
    streamedSha256(store, snapshotKey('dns', version), dns.head.length),
  ]);
  if (dnsDigest !== dns.manifest.payloadSha256) {
    await catalog.discard('dns', version);
    return { reason: 'stored dns snapshot does not match its manifest' };
  }
  if (!checked.ok) {
    if (checked.damaged) await catalog.discard('url', version);
    return { reason: checked.reason };
  }
  const urlSum = SetHash.fromHex(url.manifest.checksum);
  const dnsSum = SetHash.fromHex(dns.manifest.checksum);
  if (
    checked.domainSha256 !== dns.manifest.payloadSha256 ||
    checked.domainLines !== dns.manifest.entryCount ||
    !urlSum ||
    !dnsSum
  ) {
    // Both match their manifests but not each other: not one scan's pair; the scan stores a new one.
    await catalog.discard('dns', version);
    return { reason: "stored dns snapshot is not the stored url snapshot's domains" };
  }
  const payload = checked.artifact.subarray(payloadOffsetOf(checked.artifact));
  return {
    mirrors: {
      version,
      committedAt: dns.manifest.createdAt,
      dns: PlainState.fromLineRuns(payload, checked.starts, checked.domainRuns, dnsSum),
      url: PlainState.fromIndexed(payload, checked.starts, urlSum),
      filter: FilterMirror.fromWideKeys(decodeWideKeys(checked.wideKeysFile) as PerClass<Float64Array>),
    },
  };
}

/** The SHA-256 (hex) of a stored blob from `offset` on, read a chunk per turn; null when it is gone. */
async function streamedSha256(store: ArtifactStore, key: string, offset: number): Promise<string | null> {
  const stream = await store.stream(key, offset);
  if (!stream) return null;
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}
