/**
 * The artifact bucket (R2 in production, Miniflare's local bucket in dev and tests), laid out as the hub's
 * static feed copy (`takedown-static/1`, see static-layout.ts), so the bucket can be filled by the worker's
 * cron or by uploading a publish directory. Nothing read from here is trusted: every artifact is verified by
 * the consumer before use.
 */
import {
  feedEntry,
  type IndexedArtifact,
  parseStaticIndex,
  STATIC_ARTIFACT_NAME,
  STATIC_INDEX_NAME,
  type StaticIndex,
  staticArtifactName,
  staticIndexText,
} from '../../src/core/static-layout.ts';

/** Where the edge keeps the log checkpoint it holds (outside the feed's folder, which pulls prune). */
const HELD_CHECKPOINT = 'edge-state/filter.checkpoint';
/** Consistency proofs the cron kept (bucket-pull.ts): the hub's answers, checked by whoever uses them. */
const proofPath = (from: number, to: number) => `log/proofs/${from}-${to}.json`;

/** The part of the Workers `R2Bucket` API the edge uses (a narrow port: tests and types stay small). */
export interface ArtifactBucket {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer>; text(): Promise<string> } | null>;
  head(key: string): Promise<{ customMetadata?: Record<string, string> } | null>;
  put(
    key: string,
    value: Uint8Array | string,
    options?: { customMetadata?: Record<string, string>; httpMetadata?: { contentType?: string } },
  ): Promise<unknown>;
  list(options?: { prefix?: string; cursor?: string }): Promise<{
    objects: { key: string }[];
    truncated: boolean;
    cursor?: string;
  }>;
  delete(keys: string | string[]): Promise<void>;
}

/** The static feed copy in a bucket. */
export class FeedStore {
  constructor(private readonly bucket: ArtifactBucket) {}

  /** index.json, or null when there is none or it is not a `takedown-static/1` index. */
  async index(): Promise<StaticIndex | null> {
    const object = await this.bucket.get(STATIC_INDEX_NAME);
    return object ? parseStaticIndex(await object.text()) : null;
  }

  /** Any file of the copy (an artifact, a log tile), or null when the bucket lacks it. */
  async file(path: string): Promise<Uint8Array | null> {
    const object = await this.bucket.get(path);
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  /** The metadata the writer kept beside an artifact (e.g. the hub's ETag). */
  async metadata(path: string): Promise<Record<string, string> | null> {
    return (await this.bucket.head(path))?.customMetadata ?? null;
  }

  /**
   * Stores an artifact under its static name (`<feed>/<kind>-<versions>-<tag>.tkd`, the tag from the
   * SHA-256 of its signed part, as the hub names them) and returns its index entry.
   */
  async putArtifact(
    feed: string,
    bytes: Uint8Array,
    manifest: { kind: string; from: number; to: number },
    metadata: Record<string, string> = {},
  ): Promise<IndexedArtifact> {
    const path = `${feed}/${await staticArtifactName(bytes, manifest)}`;
    await this.bucket.put(path, bytes, {
      customMetadata: metadata,
      httpMetadata: { contentType: 'application/octet-stream' },
    });
    return { path, bytes: bytes.length };
  }

  /** The checkpoint note the edge held last (its isolates share it), or null. */
  async heldCheckpoint(): Promise<string | null> {
    return (await this.bucket.get(HELD_CHECKPOINT))?.text() ?? null;
  }

  putHeldCheckpoint(note: string): Promise<unknown> {
    return this.bucket.put(HELD_CHECKPOINT, note, { httpMetadata: { contentType: 'text/plain' } });
  }

  /** A consistency proof answer of the hub the cron kept (`log/proofs/<from>-<to>.json`), or null. */
  async consistencyAnswer(from: number, to: number): Promise<unknown> {
    const object = await this.bucket.get(proofPath(from, to));
    if (!object) return null;
    try {
      return JSON.parse(await object.text());
    } catch {
      return null;
    }
  }

  putConsistencyAnswer(from: number, to: number, answer: unknown): Promise<unknown> {
    return this.bucket.put(proofPath(from, to), JSON.stringify(answer), {
      httpMetadata: { contentType: 'application/json' },
    });
  }

  putIndex(index: StaticIndex): Promise<unknown> {
    return this.bucket.put(STATIC_INDEX_NAME, staticIndexText(index), {
      httpMetadata: { contentType: 'application/json' },
    });
  }

  /** Deletes the feed's artifact files that none of `indexes` lists; returns how many. */
  async removeUnlisted(feed: string, indexes: readonly (StaticIndex | null)[]): Promise<number> {
    const listed = new Set<string>();
    for (const index of indexes) {
      const f = feedEntry(index, feed);
      if (!f) continue;
      listed.add(f.snapshot.path);
      for (const delta of f.deltas) listed.add(delta.path);
    }
    const stale: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix: `${feed}/`, cursor });
      for (const { key } of page.objects) {
        if (STATIC_ARTIFACT_NAME.test(key.slice(feed.length + 1)) && !listed.has(key)) stale.push(key);
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    // R2 deletes at most 1000 keys per call.
    for (let i = 0; i < stale.length; i += 1000) await this.bucket.delete(stale.slice(i, i + 1000));
    return stale.length;
  }
}
