/**
 * The artifact bucket (R2 in production, Miniflare's local bucket in dev and tests) and its layout for one
 * feed. Nothing read from here is trusted: every artifact is verified by the consumer before use, and the
 * custom metadata only says which object to read next.
 *
 *   <feed>/snapshot.artifact        the latest snapshot the cron pulled; metadata to, createdAt, expiresAt
 *   <feed>/delta-from-<V>.artifact  a delta from version V to a later one (metadata to), one per cron step
 *
 * Following `delta-from-<to>` links from the snapshot's version walks the chain to the newest version.
 */
import type { Manifest } from '../../src/core/artifact.ts';

/** The part of the Workers `R2Bucket` API the edge uses (a narrow port, so tests and types stay small). */
export interface ArtifactBucket {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  head(key: string): Promise<{ customMetadata?: Record<string, string> } | null>;
  put(
    key: string,
    value: Uint8Array,
    options?: { customMetadata?: Record<string, string>; httpMetadata?: { contentType?: string } },
  ): Promise<unknown>;
  list(options?: {
    prefix?: string;
    cursor?: string;
    include?: ('customMetadata' | 'httpMetadata')[];
  }): Promise<{
    objects: { key: string; customMetadata?: Record<string, string> }[];
    truncated: boolean;
    cursor?: string;
  }>;
  delete(keys: string | string[]): Promise<void>;
}

/** What the bucket's snapshot object says about itself (a hint until its bytes are verified). */
export interface StoredSnapshot {
  to: number;
  createdAt: number;
  expiresAt: number;
}

/** The bucket's view of one feed: its snapshot and its chain of deltas. */
export interface StoredFeed {
  snapshot: StoredSnapshot | null;
  /** Delta links, from-version to to-version. */
  links: Map<number, number>;
}

const CONTENT_TYPE = 'application/vnd.takedown.artifact';

/** One feed's artifacts in a bucket. */
export class FeedStore {
  constructor(
    private readonly bucket: ArtifactBucket,
    readonly feed: string,
  ) {}

  get snapshotKey(): string {
    return `${this.feed}/snapshot.artifact`;
  }

  deltaKey(from: number): string {
    return `${this.feed}/delta-from-${from}.artifact`;
  }

  snapshot(): Promise<Uint8Array | null> {
    return this.read(this.snapshotKey);
  }

  /** The delta starting at `from`, if the bucket has one. */
  delta(from: number): Promise<Uint8Array | null> {
    return this.read(this.deltaKey(from));
  }

  /** The snapshot's metadata without its bytes; null when there is none or its metadata is unreadable. */
  async snapshotInfo(): Promise<StoredSnapshot | null> {
    const head = await this.bucket.head(this.snapshotKey);
    return head ? parseSnapshotMeta(head.customMetadata) : null;
  }

  /** The snapshot and every delta link, from metadata only. */
  async describe(): Promise<StoredFeed> {
    const links = new Map<number, number>();
    const prefix = `${this.feed}/delta-from-`;
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix, cursor, include: ['customMetadata'] });
      for (const object of page.objects) {
        const from = Number(object.key.slice(prefix.length, -'.artifact'.length));
        const to = Number(object.customMetadata?.to);
        if (Number.isSafeInteger(from) && Number.isSafeInteger(to) && to > from) links.set(from, to);
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return { snapshot: await this.snapshotInfo(), links };
  }

  /** Stores a verified snapshot; its manifest becomes the object's metadata. */
  putSnapshot(bytes: Uint8Array, manifest: Manifest): Promise<unknown> {
    return this.bucket.put(this.snapshotKey, bytes, {
      customMetadata: {
        to: String(manifest.to),
        createdAt: String(manifest.createdAt),
        expiresAt: String(manifest.expiresAt),
      },
      httpMetadata: { contentType: CONTENT_TYPE },
    });
  }

  /** Stores a verified delta under its from-version. */
  putDelta(bytes: Uint8Array, manifest: Manifest): Promise<unknown> {
    return this.bucket.put(this.deltaKey(manifest.from), bytes, {
      customMetadata: { to: String(manifest.to), expiresAt: String(manifest.expiresAt) },
      httpMetadata: { contentType: CONTENT_TYPE },
    });
  }

  /** Deletes the deltas starting below `version` (a newer snapshot made them unnecessary). */
  async pruneDeltasBelow(version: number, links: ReadonlyMap<number, number>): Promise<number> {
    const stale = [...links.keys()].filter((from) => from < version).map((from) => this.deltaKey(from));
    // R2 deletes at most 1000 keys per call.
    for (let i = 0; i < stale.length; i += 1000) await this.bucket.delete(stale.slice(i, i + 1000));
    return stale.length;
  }

  private async read(key: string): Promise<Uint8Array | null> {
    const object = await this.bucket.get(key);
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }
}

function parseSnapshotMeta(meta: Record<string, string> | undefined): StoredSnapshot | null {
  const to = Number(meta?.to);
  const createdAt = Number(meta?.createdAt);
  const expiresAt = Number(meta?.expiresAt);
  if (![to, createdAt, expiresAt].every(Number.isSafeInteger)) return null;
  return { to, createdAt, expiresAt };
}
