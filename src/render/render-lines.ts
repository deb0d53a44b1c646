import type { EntryKind, FeedEntry } from '../core/types.ts';
import { domainName, traceComment } from './names.ts';
import type { EntrySource, RefLookup, RenderStats } from './options.ts';

/** Pieces of about this many characters keep the per-piece overhead low and memory flat. */
export const PIECE_SIZE = 16 * 1024;

/** How one format writes an entry of the kind it carries: its line(s), or undefined to skip it. */
export interface LineFormat {
  kind: EntryKind;
  header: string;
  line(entry: FeedEntry): string | undefined;
  footer(stats: RenderStats): string;
}

/** Streams `header`, one formatted piece per entry of `format.kind` (others are ignored), `footer`. */
export async function* renderLines(
  entries: EntrySource,
  format: LineFormat,
): AsyncGenerator<string, RenderStats, undefined> {
  const stats: RenderStats = { rendered: 0, ignored: 0, skipped: 0 };
  let piece = format.header;
  for await (const entry of entries) {
    if (entry.kind !== format.kind) {
      stats.ignored++;
      continue;
    }
    const text = format.line(entry);
    if (text === undefined) {
      stats.skipped++;
      continue;
    }
    stats.rendered++;
    piece += text;
    if (piece.length >= PIECE_SIZE) {
      yield piece;
      piece = '';
    }
  }
  yield piece + format.footer(stats);
  return stats;
}

/**
 * The `line` of a format of DNS names: `write` gets the entry's name and its trace comment; an entry
 * whose expression is no DNS name the format could hold is skipped.
 */
export function domainLine(
  refs: RefLookup | undefined,
  write: (name: string, comment: string, entry: FeedEntry) => string,
): (entry: FeedEntry) => string | undefined {
  return (entry) => {
    const name = domainName(entry.expression);
    return name === undefined ? undefined : write(name, traceComment(entry, refs), entry);
  };
}

/** The closing comment line: lets an operator (or a check) see that a file was written to the end. */
export function endLine(marker: string, stats: RenderStats, version: number | bigint): string {
  return `${marker} end: ${stats.rendered} entries, ${stats.skipped} skipped, registry version ${version}\n`;
}
