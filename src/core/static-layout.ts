/**
 * The static feed copy, `takedown-static/1`: what `takedown publish --out DIR` writes to a directory and
 * what the edge worker keeps in its bucket, so that any file server or object store can serve the feeds:
 *
 *   index.json                           what is published; not signed, a hint only
 *   <feed>/snapshot-<to>-<tag>.tkd       the latest snapshot
 *   <feed>/delta-<from>-<to>-<tag>.tkd   one delta to the latest from each listed version
 *
 * `<tag>` is the first 16 hex digits of the SHA-256 of the artifact's signed part.
 */
import { signedLengthOf } from './artifact.ts';
import { sha256Hex } from './bytes.ts';

export const STATIC_FORMAT = 'takedown-static/1';
export const STATIC_INDEX_NAME = 'index.json';
/** The name of an artifact file inside its feed's folder. */
export const STATIC_ARTIFACT_NAME = /^(snapshot|delta)-[0-9-]+-[0-9a-f]+\.tkd$/;

export interface IndexedArtifact {
  path: string;
  bytes: number;
}

/** One feed in index.json. */
export interface FeedIndex {
  version: number;
  snapshot: IndexedArtifact & { version: number };
  deltas: (IndexedArtifact & { from: number; to: number })[];
}

/** index.json; by default as a reader sees it, where any feed may be missing. */
export interface StaticIndex<Feeds = Partial<Record<string, FeedIndex>>> {
  format: typeof STATIC_FORMAT;
  version: number;
  feeds: Feeds;
}

/** The file name of an artifact inside its feed's folder. */
export async function staticArtifactName(
  bytes: Uint8Array,
  manifest: { kind: string; from: number; to: number },
): Promise<string> {
  const tag = (await sha256Hex(bytes.subarray(0, signedLengthOf(bytes)))).slice(0, 16);
  const versions = manifest.kind === 'snapshot' ? `${manifest.to}` : `${manifest.from}-${manifest.to}`;
  return `${manifest.kind}-${versions}-${tag}.tkd`;
}

/** The text of index.json. */
export const staticIndexText = (index: StaticIndex<unknown>): string => `${JSON.stringify(index, null, 2)}\n`;

/**
 * index.json as read from a mirror or a bucket: the index, or null when the text is not JSON or not a
 * `takedown-static/1` index. Its feeds are only hints until {@link feedEntry} checks one.
 */
export function parseStaticIndex(text: string): StaticIndex | null {
  try {
    const index = JSON.parse(text) as StaticIndex | null;
    return index?.format === STATIC_FORMAT && typeof index.feeds === 'object' && index.feeds !== null
      ? index
      : null;
  } catch {
    return null;
  }
}

/** One feed's entry of `index`, when it has a well-formed one. */
export function feedEntry(index: StaticIndex | null, feed: string): FeedIndex | null {
  const f = index?.feeds[feed];
  const wellFormed =
    f &&
    Number.isSafeInteger(f.version) &&
    typeof f.snapshot?.path === 'string' &&
    Number.isSafeInteger(f.snapshot.version) &&
    Array.isArray(f.deltas);
  return wellFormed ? f : null;
}
