/**
 * A full read of the registry into every feed's snapshot artifact, at one version: what a background
 * snapshot build and the hub's start need. It runs in a worker thread on its own read-only connection
 * inside one read transaction (WAL), so neither requests nor registry writes wait for it. The artifacts are
 * written to files as the read goes (artifact-file.ts): the scan never holds a whole plain payload nor the
 * list's expressions, and only their metadata and the filter mirror's keys go back to the hub's thread.
 */
import { join } from 'node:path';
import { confirmationWidths, type KeyWidths } from '../core/confirm.ts';
import { ExpressionHashes, encodeFilterSnapshotOfHashes, keyHeadsOfWords } from '../core/filter-payload.ts';
import type { SigningKey } from '../core/keys.ts';
import { snapshotLine } from '../core/plain-payload.ts';
import { MutableSetHash } from '../core/set-hash.ts';
import type { Category, FeedName } from '../core/types.ts';
import { checkpointSource } from '../registry/checkpoints.ts';
import type { Registry } from '../registry/registry.ts';
import { kindOf } from '../registry/rows.ts';
import { runWholeListTask } from '../util/ts-worker.ts';
import { type SnapshotState, storedSnapshotManifest } from './artifact-builders.ts';
import { ArtifactFileWriter } from './artifact-file.ts';
import { SnapshotWriter } from './snapshot-writer.ts';

/** One feed's snapshot artifact, written to a staged file, and what its manifest announces. */
export interface ScannedSnapshot extends SnapshotState {
  /** The finished artifact file, in the scan's staging directory. */
  file: string;
  /** Lower-case hex SHA-256 of its payload. */
  payloadSha256: string;
  /** `filter` only: the key widths of the root and path classes. */
  bits?: KeyWidths;
}

export interface FeedScan {
  version: number;
  /** Commit time of `version` (ms since the epoch; 0 for version 0). */
  committedAt: number;
  snapshots: Record<FeedName, ScannedSnapshot>;
  /**
   * Sorted 53-bit keys of every active expression per key class, repeats kept, in the layout of
   * `encodeWideKeys` (mirror-seed.ts): the filter mirror's seed, which the hub stores beside the snapshots.
   */
  wideKeysFile: Uint8Array;
}

export interface ScanOptions {
  confidential: readonly Category[];
  /** How the snapshot artifacts are signed (a CryptoKey crosses to a worker thread as it is). */
  signing: { key: SigningKey; ttlMs: number };
  /**
   * The transparency log's origin: the scan signs its version's checkpoint from its own connection (a
   * function cannot cross to a worker thread); absent, the artifacts carry none.
   */
  logOrigin?: string;
  /** Bloom false-positive rate of the filter snapshot. */
  fpr: number;
  /** The widths of the previous filter snapshot: kept unless the entry count needs more. */
  minBits?: KeyWidths;
  /** An empty directory the artifact files are written to (`<feed>.tkd`); the caller moves them on. */
  staging: string;
}

export interface ScanRequest extends ScanOptions {
  databasePath: string;
}

/** What one read transaction gives: the plain artifacts written but not yet signed, every expression hashed. */
interface PlainRead {
  version: number;
  committedAt: number;
  plain: Record<'dns' | 'url', { file: ArtifactFileWriter; state: SnapshotState }>;
  hashes: ExpressionHashes;
}

/**
 * Reads every feed of `registry` at its current version: ONE pass over the active entries, in pages, inside
 * one read transaction. Each row becomes its snapshot line, written into the `url` payload and, for a domain,
 * the `dns` one (hashed once for both checksums); its expression's hash is kept for the filter. Every feed's
 * artifact ends up in `options.staging`; on failure the files written so far are removed.
 */
export async function scanRegistry(registry: Registry, options: ScanOptions): Promise<FeedScan> {
  const { key, ttlMs } = options.signing;
  const checkpoints =
    options.logOrigin === undefined ? null : checkpointSource(registry, key, options.logOrigin);
  const opened: ArtifactFileWriter[] = [];
  const open = (feed: FeedName, checkpoint: string) => {
    const file = new ArtifactFileWriter(join(options.staging, `${feed}.tkd`), checkpoint);
    opened.push(file);
    return file;
  };
  try {
    // The checkpoint's length places every payload, so it is signed before the pass; the pass then reads
    // the very version it was signed for (or the two steps run again, should a write come in between).
    let read: PlainRead | null = null;
    let checkpoint = '';
    while (read === null) {
      const version = registry.currentVersion();
      checkpoint = (await checkpoints?.(version))?.note ?? '';
      read = registry.inReadTransaction(() =>
        registry.currentVersion() === version
          ? readPass(registry, options, (feed) => open(feed, checkpoint))
          : null,
      );
    }
    const at = { version: read.version, committedAt: read.committedAt };
    const snapshots = {} as Record<FeedName, ScannedSnapshot>;
    for (const feed of ['dns', 'url'] as const) {
      const { file, state } = read.plain[feed];
      const written = await file.finish(storedSnapshotManifest(feed, at, state, ttlMs, checkpoint), key);
      snapshots[feed] = { ...state, file: written.path, payloadSha256: written.payloadSha256 };
    }
    const { wideKeysFile, filter } = await scanFilter(read.hashes, options);
    const file = open('filter', checkpoint);
    file.write(filter.payload);
    const state = { entryCount: filter.entryCount, checksum: filter.checksum };
    const written = await file.finish(storedSnapshotManifest('filter', at, state, ttlMs, checkpoint), key);
    snapshots.filter = {
      ...state,
      bits: filter.bits,
      file: written.path,
      payloadSha256: written.payloadSha256,
    };
    return { ...at, snapshots, wideKeysFile };
  } catch (error) {
    for (const file of opened) file.abandon();
    throw error;
  }
}

/** The pass itself, inside the read transaction: plain payloads streamed to their files, expressions hashed. */
function readPass(
  registry: Registry,
  options: ScanOptions,
  open: (feed: 'dns' | 'url') => ArtifactFileWriter,
): PlainRead {
  const confidential = new Set<string>(options.confidential);
  const version = registry.currentVersion();
  const info = version > 0 ? registry.versionInfo(version) : null;
  const files = { dns: open('dns'), url: open('url') };
  const sums = { dns: new MutableSetHash(), url: new MutableSetHash() };
  const dns = new SnapshotWriter((block) => files.dns.write(block), null);
  const url = new SnapshotWriter((block) => files.url.write(block), sums.url, sums.dns);
  const hashes = new ExpressionHashes();
  for (const page of registry.activeEntryPages()) {
    for (const [expression, category, action] of page) {
      hashes.add(expression);
      if (confidential.has(category)) continue;
      const kind = kindOf(expression);
      const line = snapshotLine({ expression, kind, category, action });
      url.push(expression, line, kind === 'domain');
      if (kind === 'domain') dns.push(expression, line);
    }
  }
  // The url writer first: its last lines add to the dns sum too.
  const urlCount = url.finish().entryCount;
  const dnsCount = dns.finish().entryCount;
  return {
    version,
    committedAt: info ? Date.parse(info.createdAt) : 0,
    plain: {
      dns: { file: files.dns, state: { entryCount: dnsCount, checksum: sums.dns.done().hex() } },
      url: { file: files.url, state: { entryCount: urlCount, checksum: sums.url.done().hex() } },
    },
    hashes,
  };
}

/**
 * The filter mirror's wide keys and the filter snapshot, both from the hashes (which it spends): the wide
 * keys are the 53-bit heads of the sorted words the snapshot's key sets come from, so one sort serves both.
 */
async function scanFilter(hashes: ExpressionHashes, options: ScanOptions) {
  const wide = wideKeysOfHashes(hashes);
  const roots = wide[0] as number;
  const counts = {
    root: distinctCount(wide.subarray(1, 1 + roots)),
    path: distinctCount(wide.subarray(1 + roots)),
  };
  const bits = confirmationWidths(counts, options.fpr, options.minBits);
  const filter = await encodeFilterSnapshotOfHashes(hashes, { fpr: options.fpr, bits });
  return { wideKeysFile: new Uint8Array(wide.buffer), filter };
}

/** The wide keys in the layout of `encodeWideKeys`: the root key count, the root keys, the path keys. */
function wideKeysOfHashes(hashes: ExpressionHashes): Float64Array {
  const sorted = hashes.sorted();
  const roots = sorted.root.length;
  const wide = new Float64Array(1 + roots + sorted.path.length);
  wide[0] = roots;
  keyHeadsOfWords(sorted.root, wide, 1);
  keyHeadsOfWords(sorted.path, wide, 1 + roots);
  return wide;
}

/** Runs {@link scanRegistry} in a worker thread on a read-only connection to `request.databasePath`. */
export function scanInWorker(request: ScanRequest, signal?: AbortSignal): Promise<FeedScan> {
  return runWholeListTask(new URL('./scan-worker.ts', import.meta.url), request, 'feed scan', signal);
}

function distinctCount(sorted: Float64Array): number {
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) count++;
  return count;
}
