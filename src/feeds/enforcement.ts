/**
 * Which enforcement points block a target, and why the others cannot: the answer `GET /v1/explain` gives
 * beside the matching entries. It restates the feed selection (feed-definitions.ts) and what each output
 * format can express (docs/ARCHITECTURE.md, "Entries and matching"), so an operator sees why a resolver lets a URL through.
 */
import type { Category, EntryKind, FeedEntry, FeedName } from '../core/types.ts';
import { FEED_NAMES, inPlainFeed } from './feed-definitions.ts';

export interface EnforcementPoint {
  /** Who enforces: edge workers, HTTP proxies, DNS resolvers, hosts files. */
  point: 'edge' | 'proxy' | 'dns' | 'hosts';
  /** The feed that point reads. */
  feed: FeedName;
  /** The agent's output formats of that point (none for the edge worker, which reads the feed itself). */
  formats: readonly string[];
  blocked: boolean;
  reason: string;
}

type Matched = Pick<FeedEntry, 'expression' | 'kind' | 'category'>;

/** The enforcement points, the feed each reads and the agent's output formats that serve it. */
const POINTS: ReadonlyArray<Pick<EnforcementPoint, 'point' | 'feed' | 'formats'>> = [
  { point: 'edge', feed: 'filter', formats: [] },
  { point: 'proxy', feed: 'url', formats: ['squid-url', 'squid'] },
  { point: 'dns', feed: 'dns', formats: ['rpz', 'unbound', 'dnsmasq'] },
  { point: 'hosts', feed: 'dns', formats: ['hosts'] },
];

/**
 * Which feeds would carry an entry of this kind and category, and the outputs (or `edge`) that act on them:
 * what a dry run tells a regulator before an order is written.
 */
export function enforcementOf(kind: EntryKind, category: Category, confidential: readonly Category[]) {
  const feeds = FEED_NAMES.filter((f) => f === 'filter' || inPlainFeed(f, { kind, category }, confidential));
  const points = feeds.flatMap((f) =>
    POINTS.filter((p) => p.feed === f).flatMap((p) => (p.formats.length > 0 ? p.formats : [p.point])),
  );
  return { feeds, points };
}

const point = (name: EnforcementPoint['point']) =>
  POINTS.find((p) => p.point === name) as (typeof POINTS)[number];

const list = (entries: readonly Matched[]) => entries.map((e) => e.expression).join(', ');

export function enforcementPoints(
  target: { host: string; isIp: boolean },
  matches: readonly Matched[],
  confidential: readonly Category[],
): EnforcementPoint[] {
  if (matches.length === 0) {
    const reason = 'no active entry matches';
    return POINTS.map((p) => ({ ...p, blocked: false, reason }));
  }
  const secret = matches.filter((m) => confidential.includes(m.category));
  const plain = matches.filter((m) => inPlainFeed('url', m, confidential));
  const domains = matches.filter((m) => inPlainFeed('dns', m, confidential));
  const exact = domains.filter((m) => m.expression === `${target.host}/`);
  const onlySecret = `${list(secret)}: a confidential category, published only in the hashed filter feed`;

  const dnsReason = (): string => {
    if (domains.length > 0) return `domain entry ${list(domains)} (the name and every sub-domain)`;
    if (plain.length === 0) return onlySecret;
    if (target.isIp) return 'an IP literal: DNS answers names, not addresses';
    return `url entry ${list(plain)}: enforced by proxies and edge workers, not by DNS (DNS never blocks a whole host for one URL)`;
  };
  const hostsReason = (): string => {
    if (exact.length > 0) return `domain entry ${list(exact)} names this exact host`;
    if (domains.length > 0)
      return `hosts files list exact names only: ${target.host} is blocked as a sub-domain of ${list(domains)}, which a hosts file cannot express`;
    return dnsReason();
  };
  return [
    { ...point('edge'), blocked: true, reason: `entry ${list(matches)}` },
    {
      ...point('proxy'),
      blocked: plain.length > 0,
      reason: plain.length > 0 ? `entry ${list(plain)}` : onlySecret,
    },
    { ...point('dns'), blocked: domains.length > 0, reason: dnsReason() },
    { ...point('hosts'), blocked: exact.length > 0, reason: hostsReason() },
  ];
}
