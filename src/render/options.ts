import { isIP } from 'node:net';
import type { SnapshotLines } from '../core/plain-state.ts';
import type { FeedEntry } from '../core/types.ts';
import { isDnsName } from './names.ts';

/** Knobs shared by every renderer; `resolveRenderOptions` fills the defaults. */
export interface RenderOptions {
  /** Origin of the RPZ zone, absolute (trailing dot). Default `rpz.takedown.`. */
  zone: string;
  /** TTL of rendered records (RPZ `$TTL` and SOA minimum, Unbound local-data). Default 60 s. */
  ttl: number;
  /** Name server and mailbox in the RPZ SOA. Defaults `localhost.` and `hostmaster.localhost.`. */
  nameServer: string;
  hostmaster: string;
  /**
   * Block page host for `redirect` entries in the RPZ output (`CNAME host.`). When unset, RPZ uses
   * the walled-garden addresses; with neither, a redirect entry is blocked outright.
   */
  walledGardenHost?: string;
  /** IPv4/IPv6 addresses of the block page for `redirect` entries: RPZ A/AAAA, Unbound `redirect`, hosts. */
  walledGardenAddresses: readonly string[];
}

/** An option value that cannot be rendered safely; the message names the option and the value. */
export class RenderOptionsError extends Error {
  override name = 'RenderOptionsError';
}

/** Entries in the feed's sorted order; an agent streams them from its local state. */
export type EntrySource = AsyncIterable<FeedEntry> | Iterable<FeedEntry>;

/**
 * A plain feed state as its validated snapshot lines (`PlainState` is one): a renderer with a line path
 * writes straight from these bytes; any other reads `entries()`.
 */
export interface LineSource {
  lineRuns(): Iterable<SnapshotLines>;
  entries(): Iterable<FeedEntry>;
}

/** What a file is rendered from. */
export type RenderSource = EntrySource | LineSource;

export const isLineSource = (source: RenderSource): source is LineSource =>
  typeof (source as Partial<LineSource>).lineRuns === 'function';

/** The order reference(s) that hold an expression, for the trace comment; undefined when unknown. */
export type RefLookup = (expression: string) => string | undefined;

export interface RenderContext {
  /** Registry version the entries belong to. */
  version: number | bigint;
  options: RenderOptions;
  refs?: RefLookup;
}

/** `ignored`: entries of a kind the format does not carry; `skipped`: entries it cannot express. */
export interface RenderStats {
  rendered: number;
  ignored: number;
  skipped: number;
}

/** Streams a format's text in pieces (about one entry each) and returns what it rendered. */
export type RenderFunction = (
  entries: EntrySource,
  context: RenderContext,
) => AsyncGenerator<string, RenderStats, undefined>;

/**
 * Streams the same bytes as a format's {@link RenderFunction} from snapshot lines, in pieces of text or
 * bytes. A yielded byte piece may be reused once the consumer asks for the next piece.
 */
export type LineRenderFunction = (
  source: LineSource,
  context: RenderContext,
) => AsyncGenerator<string | Uint8Array, RenderStats, undefined>;

function absoluteName(option: string, value: string): string {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (!isDnsName(name.toLowerCase())) throw new RenderOptionsError(`${option}: "${value}" is not a DNS name`);
  return `${name.toLowerCase()}.`;
}

/** Merges `partial` with the defaults once, at the configuration boundary, and validates every value. */
export function resolveRenderOptions(partial: Partial<RenderOptions> = {}): RenderOptions {
  const ttl = partial.ttl ?? 60;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2_147_483_647) {
    throw new RenderOptionsError(`ttl: ${ttl} is not a TTL in seconds`);
  }
  const addresses = partial.walledGardenAddresses ?? [];
  for (const address of addresses) {
    if (isIP(address) === 0)
      throw new RenderOptionsError(`walledGardenAddresses: "${address}" is not an IP address`);
  }
  const options: RenderOptions = {
    zone: absoluteName('zone', partial.zone ?? 'rpz.takedown.'),
    ttl,
    nameServer: absoluteName('nameServer', partial.nameServer ?? 'localhost.'),
    hostmaster: absoluteName('hostmaster', partial.hostmaster ?? 'hostmaster.localhost.'),
    walledGardenAddresses: [...addresses],
  };
  if (partial.walledGardenHost !== undefined) {
    options.walledGardenHost = absoluteName('walledGardenHost', partial.walledGardenHost);
  }
  return options;
}
