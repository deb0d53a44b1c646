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
 * Keys held before are looked up linearly: for test-sized sets.
 */
export function filterDeltaFrom(
  before: readonly string[],
  added: readonly string[],
  removed: readonly string[],
  bits: KeyWidths,
): Uint8Array {
  // As the hub's mirror does: an added expression whose key is already held changes no key set.
  const held = keysOf(before, bits);
  const fresh = added.filter((e) => {
    const key = keysOf([e], bits);
    return (
      !(key.root.length > 0 && held.root.includes(key.root[0] as number)) &&
      !(key.path.length > 0 && held.path.includes(key.path[0] as number))
    );
  });
  return encodeFilterDelta(fresh, removed, bits, keysOf(applied(before, added, removed), bits));
}
