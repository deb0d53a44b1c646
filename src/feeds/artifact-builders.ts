/** The signed artifacts the hub publishes: snapshots (stored, then re-dated when served) and deltas. */
import {
  encodeArtifact,
  encodeArtifactHeader,
  FORMAT_VERSION,
  type ManifestInput,
} from '../core/artifact.ts';
import type { KeyWidths } from '../core/confirm.ts';
import { encodeFilterDelta } from '../core/filter-payload.ts';
import type { SigningKey } from '../core/keys.ts';
import { encodeDelta } from '../core/plain-payload.ts';
import type { Category, Change, FeedName } from '../core/types.ts';
import { type FeedMirrors, filterChanges, plainChanges } from './feed-mirrors.ts';
import { HeldArtifact, StoredArtifact, type StoredPayload } from './served-artifact.ts';
import type { StoredSnapshot } from './snapshot-catalog.ts';

/** How artifacts are signed, for how long they stay fresh, and the log checkpoint each version carries. */
export interface Signing {
  key: SigningKey;
  ttlMs: number;
  /** The signed checkpoint note of a version ("" when the hub keeps no log). */
  checkpoint(version: number): Promise<string>;
}

/** What a snapshot's manifest announces of its state. */
export interface SnapshotState {
  entryCount: number;
  checksum: string;
}

/** The manifest of a snapshot artifact as stored: dated at its version's commit (see freshness.ts). */
export function storedSnapshotManifest(
  feed: FeedName,
  at: { version: number; committedAt: number },
  state: SnapshotState,
  ttlMs: number,
  checkpoint: string,
): ManifestInput {
  return {
    kind: 'snapshot',
    feed,
    from: 0,
    to: at.version,
    createdAt: at.committedAt,
    expiresAt: at.committedAt + ttlMs,
    entryCount: state.entryCount,
    checksum: state.checksum,
    checkpoint,
  };
}

/**
 * A stored snapshot dated `createdAt` and signed by the current key (the stored head when it is so),
 * served with its payload read from `payload` (the stored file) as it is sent.
 */
export async function servedSnapshot(
  stored: StoredSnapshot,
  payload: StoredPayload,
  createdAt: number,
  signing: Signing,
): Promise<StoredArtifact> {
  const { kind, feed, from, to, entryCount, checksum, keyId } = stored.manifest;
  const expiresAt = createdAt + signing.ttlMs;
  const checkpoint = await signing.checkpoint(to);
  const unchanged =
    stored.manifest.createdAt === createdAt &&
    stored.manifest.expiresAt === expiresAt &&
    stored.manifest.formatVersion === FORMAT_VERSION &&
    stored.manifest.checkpoint === checkpoint &&
    keyId === signing.key.id;
  const input: ManifestInput = {
    kind,
    feed,
    from,
    to,
    createdAt,
    expiresAt,
    entryCount,
    checksum,
    checkpoint,
  };
  const { payloadLength: length, payloadSha256: sha256 } = stored.manifest;
  const head = unchanged ? stored.head : await encodeArtifactHeader(input, { length, sha256 }, signing.key);
  return StoredArtifact.of(head, payload, feed !== 'filter');
}

export interface DeltaInput {
  feed: FeedName;
  since: number;
  /** The feeds at the version the delta ends at. */
  mirrors: FeedMirrors;
  /** The registry's net changes from `since` to `mirrors.version`. */
  changes: readonly Change[];
  /** `filter` only: the consumer's key widths. */
  bits: KeyWidths | undefined;
  confidential: readonly Category[];
  createdAt: number;
}

/** The delta artifact `since` -> `mirrors.version`, announcing the state the mirrors hold. */
export async function buildDelta(input: DeltaInput, signing: Signing): Promise<HeldArtifact> {
  const { feed, since, mirrors, changes, bits, createdAt } = input;
  let payload: Uint8Array;
  let state: { entryCount: number; checksum: string };
  if (feed === 'filter') {
    if (bits === undefined) throw new Error(`no key widths for a filter delta from ${since}`);
    const { added, removed } = filterChanges(changes);
    const keyChanges = mirrors.filter.keyChanges(added, removed, bits);
    payload = encodeFilterDelta(keyChanges.added, keyChanges.removed, bits, mirrors.filter.keys(bits));
    state = await mirrors.filter.summary(bits);
  } else {
    payload = encodeDelta(plainChanges(feed, changes, input.confidential));
    state = { entryCount: mirrors[feed].entryCount, checksum: await mirrors[feed].checksum() };
  }
  const manifest: ManifestInput = {
    kind: 'delta',
    feed,
    from: since,
    to: mirrors.version,
    createdAt,
    expiresAt: createdAt + signing.ttlMs,
    ...state,
    checkpoint: await signing.checkpoint(mirrors.version),
  };
  return HeldArtifact.of(await encodeArtifact(manifest, payload, signing.key), feed !== 'filter');
}
