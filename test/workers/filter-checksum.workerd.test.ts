/**
 * In workerd the filter state's checksum is hashed as a stream (`crypto.DigestStream`), a chunk at a time, so a
 * 10M-key state never writes out its 80 MB of checksum input: it must equal the SHA-256 of the whole input,
 * across chunk boundaries, for a snapshot state and one reached through deltas.
 */
import { describe, expect, it } from 'vitest';
import { arraySource, streamedChecksum, wholeChecksum } from '../../src/core/filter-checksum.ts';
import { keySetChecksum, keysOf } from '../../src/core/filter-keys.ts';
import { encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState } from '../../src/core/filter-state.ts';
import { applied, filterDeltaFrom } from '../helpers/filter-delta.ts';

/** Expressions of both classes: one path expression in eight. */
const members = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) =>
    i % 8 === 7 ? `${prefix}${i}.example/p/${i}` : `${prefix}${i}.example/`,
  );

describe('the filter checksum in workerd', () => {
  it('streams it a chunk at a time to the SHA-256 of the whole input', async () => {
    // 300 000 keys: 2.4 MB of input, ten chunks of 256 KiB.
    const keys = {
      root: Float64Array.from({ length: 250_000 }, (_, i) => i * 7919 + 3),
      path: Float64Array.from({ length: 50_000 }, (_, i) => i * 104_729),
    };
    const streamed = await streamedChecksum(arraySource(keys.root), arraySource(keys.path));
    expect(streamed).toBe(await wholeChecksum(arraySource(keys.root), arraySource(keys.path)));
    expect(streamed).toBe(await keySetChecksum(keys));
    const empty = new Float64Array(0);
    expect(await streamedChecksum(arraySource(empty), arraySource(empty))).toBe(
      await wholeChecksum(arraySource(empty), arraySource(empty)),
    );
  });

  it('checks a state over its payload, and after deltas, against the announced checksum', async () => {
    const initial = members('m', 40_000);
    const snapshot = await encodeFilterSnapshot(initial, { fpr: 1 / 32 });
    const state = FilterState.fromSnapshot(snapshot.payload);
    if (!state.ok) throw new Error(state.error.message);
    expect(await state.value.checksum()).toBe(snapshot.checksum);
    const added = members('d', 500);
    const removed = initial.filter((_, i) => i % 90 === 0);
    const next = state.value.applyDelta(filterDeltaFrom(initial, added, removed, snapshot.bits));
    if (!next.ok) throw new Error(next.error.message);
    expect(await next.value.checksum()).toBe(
      await keySetChecksum(keysOf(applied(initial, added, removed), snapshot.bits)),
    );
  });
});
