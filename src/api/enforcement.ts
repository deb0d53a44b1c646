import type { Category, EntryKind } from '../core/types.ts';
import { FEED_NAMES, type FeedName, inPlainFeed } from '../feeds/feed-definitions.ts';

/** The enforcement points each feed reaches (docs/OPERATIONS.md). */
const POINTS: Record<FeedName, readonly string[]> = {
  dns: ['rpz', 'unbound', 'dnsmasq', 'hosts'],
  url: ['squid'],
  filter: ['edge'],
};

/** Which feeds would carry an entry of this kind and category, and which enforcement points act on them. */
export function enforcementOf(kind: EntryKind, category: Category, confidential: readonly Category[]) {
  const feeds = FEED_NAMES.filter((f) => f === 'filter' || inPlainFeed(f, { kind, category }, confidential));
  return { feeds, points: feeds.flatMap((f) => POINTS[f]) };
}
