import type { KeyWidths } from '../../src/core/confirm.ts';
import { keysOf } from '../../src/core/filter-keys.ts';
import { encodeFilterDelta } from '../../src/core/filter-payload.ts';

/** The expressions after `added` and `removed` are applied to `before`. */
export const applied = (before: readonly string[], added: readonly string[], removed: readonly string[]) => {
  const gone = new Set(removed);
  return [...before.filter((e) => !gone.has(e)), ...added];
};

/**
 * The filter delta that takes a consumer holding `before` to `before` + `added` - `removed`: the hub derives
 * the removed keys' indexes from its key sets after the change, as this does from the expressions.
 */
export function filterDeltaFrom(
  before: readonly string[],
  added: readonly string[],
  removed: readonly string[],
  bits: KeyWidths,
): Uint8Array {
  return encodeFilterDelta(added, removed, bits, keysOf(applied(before, added, removed), bits));
}
