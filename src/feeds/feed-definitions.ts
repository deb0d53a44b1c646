/**
 * The feeds the hub publishes and which registry entries each one carries (docs/ARCHITECTURE.md: versions, feeds and artifacts):
 *
 *   dns     active `domain` entries, plain text, for resolvers
 *   url     active `domain` and `url` entries, plain text, for proxies
 *   filter  every active expression, hashed (Bloom filter + confirmation keys), for edge workers
 *
 * Entries of a confidential category (csam by default) are published ONLY in `filter`: a plain list of
 * them would itself be the material the order exists to suppress.
 */
import type { Category, FeedEntry, FeedName } from '../core/types.ts';

/** Every feed, in the order listings show them. */
export const FEED_NAMES: readonly FeedName[] = ['dns', 'url', 'filter'];

/** The plain-text feeds. */
export type PlainFeedName = Exclude<FeedName, 'filter'>;

export const isFeedName = (name: string): name is FeedName =>
  (FEED_NAMES as readonly string[]).includes(name);

/** Whether a plain feed carries `entry`, given the confidential categories. */
export function inPlainFeed(
  feed: PlainFeedName,
  entry: Pick<FeedEntry, 'kind' | 'category'>,
  confidential: readonly Category[],
): boolean {
  if (confidential.includes(entry.category)) return false;
  return feed === 'url' || entry.kind === 'domain';
}
