/**
 * The hub's in-memory state of every feed at one registry version: the plain states of `dns` and `url`
 * and the wide key set of `filter`. Advanced with the net changes of each commit, never rebuilt from the
 * registry on the commit path; a delta's resulting entry count and checksum come from here.
 */
import { encodeDelta } from '../core/plain-payload.ts';
import type { PlainState } from '../core/plain-state.ts';
import type { Category, Change } from '../core/types.ts';
import { inPlainFeed, type PlainFeedName } from './feed-definitions.ts';
import { type FilterMirror, MirrorDivergedError } from './filter-mirror.ts';

/** All feeds at one version. Immutable: advancing returns a new set sharing nothing mutable. */
export interface FeedMirrors {
  version: number;
  /** When the version was committed (ms since the epoch; 0 for version 0). */
  committedAt: number;
  dns: PlainState;
  url: PlainState;
  filter: FilterMirror;
}

/** The changes of a plain feed among the registry's net changes (sorted input stays sorted). */
export function plainChanges(
  feed: PlainFeedName,
  changes: readonly Change[],
  confidential: readonly Category[],
): Change[] {
  return changes.filter((change) => inPlainFeed(feed, change, confidential));
}

/**
 * The expressions the `filter` feed gains and loses among net changes. A remove then an add of the same
 * expression (its category or action changed) leaves a hashed feed as it was.
 */
export function filterChanges(changes: readonly Change[]): { added: string[]; removed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i] as Change;
    const next = changes[i + 1];
    if (change.op === 'remove' && next?.op === 'add' && next.expression === change.expression) {
      i++;
      continue;
    }
    (change.op === 'add' ? added : removed).push(change.expression);
  }
  return { added, removed };
}

/**
 * The mirrors at version `to`, given the registry's net changes from `mirrors.version` to `to` (sorted as
 * `netChanges` yields them). Throws {@link MirrorDivergedError} when the changes do not fit the state.
 */
export function advanceMirrors(
  mirrors: FeedMirrors,
  to: number,
  committedAt: number,
  changes: readonly Change[],
  confidential: readonly Category[],
): FeedMirrors {
  // A feed the changes do not touch keeps its state object, and with it the checksums already computed.
  const plain = (feed: PlainFeedName): PlainState => {
    const own = plainChanges(feed, changes, confidential);
    if (own.length === 0) return mirrors[feed];
    const next = mirrors[feed].applyDelta(encodeDelta(own));
    if (!next.ok)
      throw new MirrorDivergedError(`${feed} mirror at ${mirrors.version}: ${next.error.message}`);
    return next.value;
  };
  const { added, removed } = filterChanges(changes);
  return {
    version: to,
    committedAt,
    dns: plain('dns'),
    url: plain('url'),
    filter: added.length + removed.length === 0 ? mirrors.filter : mirrors.filter.apply(added, removed),
  };
}
