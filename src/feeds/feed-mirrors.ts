/**
 * The hub's in-memory state of every feed at one registry version: the plain states of `dns` and `url`
 * and the wide key set of `filter`. Advanced with the net changes of each commit, never rebuilt from the
 * registry on the commit path; a delta's resulting entry count and checksum come from here.
 */
import { encodeDelta } from '../core/plain-payload.ts';
import type { PlainState } from '../core/plain-state.ts';
import type { Category, Change } from '../core/types.ts';
import { inPlainFeed, type PlainFeedName } from './feed-definitions.ts';
import { type FilterMirror, MirrorDivergedError, runSteps } from './filter-mirror.ts';

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

/** Changes of a plain feed applied per step of {@link advanceMirrorsInSteps}. */
const PLAIN_CHANGES_PER_STEP = 500;

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
  return runSteps(advanceMirrorsInSteps(mirrors, to, committedAt, changes, confidential));
}

/**
 * {@link advanceMirrors} in bounded steps: yields after each slice of a plain feed's changes and each step
 * of the filter's update, so a version of many changes does not hold the hub's event loop. The mirrors it
 * returns are the same; nothing before the end is visible to anyone.
 */
export function* advanceMirrorsInSteps(
  mirrors: FeedMirrors,
  to: number,
  committedAt: number,
  changes: readonly Change[],
  confidential: readonly Category[],
): Generator<void, FeedMirrors> {
  // A feed the changes do not touch keeps its state object, and with it the checksums already computed.
  const plain = function* (feed: PlainFeedName): Generator<void, PlainState> {
    const own = plainChanges(feed, changes, confidential);
    let state = mirrors[feed];
    // Slices of sorted net changes are deltas in their own right: applied in turn they give the whole.
    for (let i = 0; i < own.length; i += PLAIN_CHANGES_PER_STEP) {
      const next = state.applyDelta(encodeDelta(own.slice(i, i + PLAIN_CHANGES_PER_STEP)));
      if (!next.ok)
        throw new MirrorDivergedError(`${feed} mirror at ${mirrors.version}: ${next.error.message}`);
      state = next.value;
      yield;
    }
    return state;
  };
  const dns = yield* plain('dns');
  const url = yield* plain('url');
  const { added, removed } = filterChanges(changes);
  const filter =
    added.length + removed.length === 0 ? mirrors.filter : yield* mirrors.filter.applySteps(added, removed);
  return { version: to, committedAt, dns, url, filter };
}
