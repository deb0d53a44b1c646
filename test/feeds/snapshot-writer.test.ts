import { describe, expect, it } from 'vitest';
import {
  compareExpressions,
  encodeSnapshot,
  indexSnapshot,
  snapshotLine,
} from '../../src/core/plain-payload.ts';
import { setHashOfLines } from '../../src/core/plain-state.ts';
import { MutableSetHash } from '../../src/core/set-hash.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import { SnapshotWriter } from '../../src/feeds/snapshot-writer.ts';

// The writer hands its payload out block by block and reuses each block: what the sink keeps of them, joined,
// must be the payload the entry encoder gives, and the sums those of its lines, across block boundaries.

function entries(count: number): FeedEntry[] {
  const list = Array.from({ length: count }, (_, i): FeedEntry => {
    const domain = `host-${i.toString(36).padStart(6, '0')}-${'x'.repeat(i % 40)}.example`;
    return i % 3 === 0
      ? { expression: `${domain}/path/${i}`, kind: 'url', category: 'malware', action: 'block' }
      : { expression: domain, kind: 'domain', category: 'phishing', action: 'block' };
  });
  return list.sort((a, b) => compareExpressions(a.expression, b.expression));
}

describe('SnapshotWriter', () => {
  it('streams a payload of several blocks byte for byte, with the set hashes of its lines', () => {
    // About 9 MiB of lines: more than two 4 MiB blocks.
    const list = entries(130_000);
    const received: Uint8Array[] = [];
    const sums = { all: new MutableSetHash(), domains: new MutableSetHash() };
    const writer = new SnapshotWriter((block) => received.push(block.slice()), sums.all, sums.domains);
    for (const entry of list) writer.push(entry.expression, snapshotLine(entry), entry.kind === 'domain');
    const written = writer.finish();

    const expected = encodeSnapshot(list);
    expect(received.length).toBeGreaterThan(2);
    expect(written).toEqual({ entryCount: list.length, length: expected.length });
    expect(Buffer.concat(received).equals(Buffer.from(expected))).toBe(true);
    const starts = indexSnapshot(expected);
    if (!starts.ok) throw new Error(starts.error.message);
    expect(sums.all.done().hex()).toBe(setHashOfLines(expected, starts.value).hex());
    const domains = encodeSnapshot(list.filter((e) => e.kind === 'domain'));
    const domainStarts = indexSnapshot(domains);
    if (!domainStarts.ok) throw new Error(domainStarts.error.message);
    expect(sums.domains.done().hex()).toBe(setHashOfLines(domains, domainStarts.value).hex());
  });
});
