import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type FeedIndex,
  type IndexedArtifact,
  STATIC_ARTIFACT_NAME,
  STATIC_FORMAT,
  STATIC_INDEX_NAME,
  type StaticIndex,
  staticArtifactName,
  staticIndexText,
} from '../core/static-layout.ts';
import type { FeedName } from '../core/types.ts';
import { writeFileDurably } from '../util/durable-file.ts';
import { FEED_NAMES } from './feed-definitions.ts';
import type { ServedArtifact } from './served-artifact.ts';

/** What one feed publishes. */
export interface StaticFeed {
  snapshot: ServedArtifact;
  deltas: readonly ServedArtifact[];
}

/** The index this hub writes: it lists every feed. */
export type PublishedIndex = StaticIndex<Record<FeedName, FeedIndex>>;

/**
 * Publishes version `version` to `outDir`: `build` returns each feed's artifacts, given the versions the
 * previous index.json there listed for that feed (so consumers that followed it get one delta on).
 */
export async function writeStaticSite(
  outDir: string,
  version: number,
  build: (feed: FeedName, previousFroms: readonly number[]) => Promise<StaticFeed>,
): Promise<number> {
  const previous = await readIndex(outDir);
  const feeds = {} as Record<FeedName, FeedIndex>;
  for (const feed of FEED_NAMES) {
    const before = previous?.feeds?.[feed];
    const previousFroms = [
      before?.version,
      ...(Array.isArray(before?.deltas) ? before.deltas : []).map((d) => d?.from),
    ].filter((v): v is number => Number.isSafeInteger(v));
    const { snapshot, deltas } = await build(feed, previousFroms);
    await mkdir(join(outDir, feed), { recursive: true });
    const snapshotFile = await writeArtifact(outDir, feed, snapshot);
    const deltaFiles = [];
    for (const delta of deltas) {
      const { from, to } = delta.manifest;
      deltaFiles.push({ from, to, ...(await writeArtifact(outDir, feed, delta)) });
    }
    feeds[feed] = {
      version,
      snapshot: { version: snapshot.manifest.to, ...snapshotFile },
      deltas: deltaFiles,
    };
  }
  const index: PublishedIndex = { format: STATIC_FORMAT, version, feeds };
  await writeFileDurably(join(outDir, STATIC_INDEX_NAME), staticIndexText(index));
  await removeUnlisted(outDir, [index, previous]);
  return version;
}

/** The index.json of an earlier publish, or null when there is none (or it is not ours). */
export async function readIndex(outDir: string): Promise<PublishedIndex | null> {
  try {
    const index = JSON.parse(await readFile(join(outDir, STATIC_INDEX_NAME), 'utf8')) as PublishedIndex;
    return index.format === STATIC_FORMAT ? index : null;
  } catch {
    return null;
  }
}

async function writeArtifact(
  outDir: string,
  feed: FeedName,
  artifact: ServedArtifact,
): Promise<IndexedArtifact> {
  const name = await staticArtifactName(artifact.head, artifact.manifest);
  // Streamed from the store to the file: a 10M-entry snapshot is never held whole.
  const body = await artifact.open();
  if (!body)
    throw new Error(`the ${feed} artifact to ${artifact.manifest.to} is no longer stored: publish again`);
  await writeFileDurably(join(outDir, feed, name), body);
  return { path: `${feed}/${name}`, bytes: artifact.length };
}

/** Deletes artifact files of ours that none of `indexes` lists. */
async function removeUnlisted(outDir: string, indexes: readonly (PublishedIndex | null)[]): Promise<void> {
  const listed = new Set<string>();
  for (const index of indexes) {
    for (const feed of Object.values(index?.feeds ?? {})) {
      listed.add(String(feed?.snapshot?.path));
      for (const delta of Array.isArray(feed?.deltas) ? feed.deltas : []) listed.add(String(delta?.path));
    }
  }
  for (const feed of FEED_NAMES) {
    for (const name of await readdir(join(outDir, feed))) {
      if (STATIC_ARTIFACT_NAME.test(name) && !listed.has(`${feed}/${name}`))
        await rm(join(outDir, feed, name), { force: true });
    }
  }
}
