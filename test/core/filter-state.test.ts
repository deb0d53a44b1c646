import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { confirmationKey } from '../../src/core/confirm.ts';
import { encodeFilterDelta, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { FilterState, LeanFilterStateError } from '../../src/core/filter-state.ts';
import { hashExpression } from '../../src/core/hash.ts';
import type { Result } from '../../src/core/types.ts';

const members = readFileSync(new URL('../fixtures/filter/malware-domains.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((name) => `${name}/`);
const initial = members.slice(0, 1000);
const outsiders = members.slice(1000, 1100);

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function keyOf(expression: string, bits: number): number {
  const hash = new Uint32Array(4);
  hashExpression(expression, hash);
  return confirmationKey(hash, bits);
}

const snapshot = await encodeFilterSnapshot(initial, { fpr: 1e-6 });
const delta = encodeFilterDelta(outsiders.slice(0, 10), initial.slice(0, 10), snapshot.bits);

describe('FilterState from a snapshot', () => {
  const state = value(FilterState.fromSnapshot(snapshot.payload));

  it('blocks every member and only members', () => {
    expect(initial.filter((e) => !state.isBlocked([e]))).toEqual([]);
    expect(outsiders.filter((e) => state.isBlocked([e]))).toEqual([]);
    expect(state.isBlocked([])).toBe(false);
    expect(state.isBlocked(['nothing.example/', 'evil.example/a', initial[42] as string])).toBe(true);
  });

  it('announces what the snapshot announced', async () => {
    expect(state.entryCount).toBe(snapshot.entryCount);
    expect(state.bits).toBe(snapshot.bits);
    expect(state.lean).toBe(false);
    expect(await state.checksum()).toBe(snapshot.checksum);
  });

  it('lists the distinct keys that match, and looks keys up', () => {
    const [a, b] = initial as [string, string];
    expect(state.matchingKeys([a, 'nothing.example/', b, a])).toEqual([
      keyOf(a, state.bits),
      keyOf(b, state.bits),
    ]);
    expect(state.hasKey(keyOf(a, state.bits))).toBe(true);
    expect(state.hasKey(keyOf('nothing.example/', state.bits))).toBe(false);
  });

  it('fails on a payload that is not a snapshot', () => {
    const result = FilterState.fromSnapshot(delta);
    expect(result.ok).toBe(false);
  });
});

describe('FilterState.applyDelta', () => {
  const state = value(FilterState.fromSnapshot(snapshot.payload));
  const next = value(state.applyDelta(delta));

  it('blocks added expressions and stops blocking removed ones though the Bloom filter still has them', () => {
    expect(outsiders.slice(0, 10).every((e) => next.isBlocked([e]))).toBe(true);
    expect(initial.slice(0, 10).some((e) => next.isBlocked([e]))).toBe(false);
    expect(initial.slice(10).every((e) => next.isBlocked([e]))).toBe(true);
    expect(outsiders.slice(10).some((e) => next.isBlocked([e]))).toBe(false);
  });

  it('reaches the checksum of a snapshot of the new set', async () => {
    const expected = await encodeFilterSnapshot([...initial.slice(10), ...outsiders.slice(0, 10)], {
      fpr: 1e-6,
      bits: snapshot.bits,
    });
    expect(next.entryCount).toBe(expected.entryCount);
    expect(await next.checksum()).toBe(expected.checksum);
  });

  it('returns a new state and leaves the old one as it was', async () => {
    expect(next).not.toBe(state);
    expect(state.isBlocked([initial[0] as string])).toBe(true);
    expect(state.isBlocked([outsiders[0] as string])).toBe(false);
    expect(await state.checksum()).toBe(snapshot.checksum);
  });

  it('applies deltas in sequence, including a removal undone later', async () => {
    const back = value(
      next.applyDelta(encodeFilterDelta(initial.slice(0, 10), outsiders.slice(0, 10), state.bits)),
    );
    expect(initial.every((e) => back.isBlocked([e]))).toBe(true);
    expect(outsiders.some((e) => back.isBlocked([e]))).toBe(false);
    expect(await back.checksum()).toBe(snapshot.checksum);
  });

  it('treats a repeated delta as a no-op on the key set', async () => {
    const twice = value(next.applyDelta(delta));
    expect(await twice.checksum()).toBe(await next.checksum());
  });

  it('asks for a resync when the key width differs', () => {
    const result = state.applyDelta(encodeFilterDelta(['x.example/'], [], state.bits + 1));
    expect(result.ok || result.error.code).toBe('resync_required');
  });

  it('passes a malformed delta on as a failure', () => {
    const result = state.applyDelta(delta.subarray(0, delta.length - 1));
    expect(result.ok).toBe(false);
    expect(state.applyDelta(snapshot.payload).ok).toBe(false);
  });
});

describe('a lean FilterState', () => {
  const lean = value(FilterState.fromSnapshot(snapshot.payload, { lean: true }));
  const next = value(lean.applyDelta(delta));

  it('answers like the full state, with hits as candidates', () => {
    expect(lean.lean).toBe(true);
    expect(initial.every((e) => lean.isBlocked([e]))).toBe(true);
    expect(outsiders.slice(0, 10).every((e) => next.isBlocked([e]))).toBe(true);
    expect(initial.slice(0, 10).some((e) => next.isBlocked([e]))).toBe(false);
    expect(initial.slice(10).every((e) => next.isBlocked([e]))).toBe(true);
  });

  it('undoes a removal when the key comes back', () => {
    const back = value(next.applyDelta(encodeFilterDelta(initial.slice(0, 1), [], lean.bits)));
    expect(back.isBlocked([initial[0] as string])).toBe(true);
    const gone = value(back.applyDelta(encodeFilterDelta([], outsiders.slice(0, 1), lean.bits)));
    expect(gone.isBlocked([outsiders[0] as string])).toBe(false);
  });

  it('counts entries from the deltas and lists candidate keys for the hub', () => {
    expect(lean.entryCount).toBe(snapshot.entryCount);
    expect(next.entryCount).toBe(snapshot.entryCount);
    const candidate = outsiders[0] as string;
    expect(next.matchingKeys([candidate, initial[0] as string])).toEqual([keyOf(candidate, lean.bits)]);
  });

  it('refuses what needs the key set with a named error', async () => {
    await expect(lean.checksum()).rejects.toThrow(LeanFilterStateError);
    expect(() => lean.hasKey(1)).toThrow(LeanFilterStateError);
  });
});
