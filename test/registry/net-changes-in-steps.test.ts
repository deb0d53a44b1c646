import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, type Change } from '../../src/core/types.ts';
import type { Registry } from '../../src/registry/index.ts';
import { must, tempRegistry } from './helpers.ts';

/** Runs a stepped reading to its end: the list it returns and how many times it yielded. */
function drain(steps: Generator<void, Change[]>): { changes: Change[]; steps: number } {
  let yielded = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) return { changes: step.value, steps: yielded };
    yielded++;
  }
}

const order = (reference: string, targets: string[], category: Change['category'] = 'phishing') => ({
  reference,
  authority: 'Authority',
  category,
  targets,
});

/** The entry rows (add, remove) versions from+1..to wrote. */
const entryRows = (registry: Registry, from: number, to: number) => {
  let rows = 0;
  for (let v = from + 1; v <= to; v++) {
    const info = registry.versionInfo(v);
    rows += (info?.adds ?? 0) + (info?.removes ?? 0);
  }
  return rows;
};

const POOL = Array.from({ length: 12 }, (_, i) => `site-${i}.example`);

type Step =
  | { op: 'order'; targets: number[]; category: number }
  | { op: 'revokeOrder'; pick: number }
  | { op: 'revokeEntry'; target: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('order' as const),
    targets: fc.uniqueArray(fc.nat(POOL.length - 1), { minLength: 1, maxLength: 8 }),
    category: fc.nat(2),
  }),
  fc.record({ op: fc.constant('revokeOrder' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('revokeEntry' as const), target: fc.nat(POOL.length - 1) }),
);

/** A registry after `history`: orders over a small pool, so expressions come, go and change category. */
function replay(history: readonly Step[]): Registry {
  const { registry } = tempRegistry();
  const active: number[] = [];
  history.forEach((s, i) => {
    if (s.op === 'order') {
      const targets = s.targets.map((t) => POOL[t] as string);
      active.push(
        must(registry.createOrder(order(`R${i}`, targets, CATEGORIES[s.category]), 'alice')).order.id,
      );
    } else if (s.op === 'revokeOrder' && active.length > 0) {
      const [id] = active.splice(s.pick % active.length, 1);
      must(registry.revokeOrder(id as number, 'court ruling', 'alice'));
    } else if (s.op === 'revokeEntry') {
      const entry = registry.getEntry(`${POOL[s.target]}/`);
      if (entry?.active) must(registry.revokeEntry(entry.expression, 'appeal', 'alice'));
    }
  });
  return registry;
}

describe('netChangesInSteps', () => {
  it('returns what one read of netChanges yields, for any range and page size', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 6 }),
        (history, a, b, pageRows) => {
          const registry = replay(history);
          const current = registry.currentVersion();
          const [from, to] = [a % (current + 1), b % (current + 1)].sort((x, y) => x - y) as [number, number];
          const read = drain(registry.netChangesInSteps(from, to, pageRows));
          expect(read.changes).toEqual([...registry.netChanges(from, to)]);
          registry.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reads a version of more rows than a page in one step per page, never more than a page at once', () => {
    const { registry } = tempRegistry();
    const targets = Array.from({ length: 50 }, (_, i) => `bulk-${i}.example`);
    must(registry.createOrder(order('A', targets), 'alice'));
    must(registry.createOrder(order('B', targets.slice(0, 20), 'malware'), 'alice'));
    must(registry.revokeOrder(1, 'superseded', 'alice'));
    const v = registry.currentVersion();
    const rows = entryRows(registry, 0, v);
    expect(rows).toBe(50 + 30 + 20 + 20);

    const read = drain(registry.netChangesInSteps(0, v, 8));
    expect(read.changes).toEqual([...registry.netChanges(0, v)]);
    expect(read.changes.map((c) => `${c.op} ${c.category}`)).toEqual(
      Array.from({ length: 20 }, () => 'add malware'),
    );
    // One step after each page of the log (the revoke's decision row is a seq of its own), plus the merges.
    expect(read.steps).toBeGreaterThanOrEqual(Math.ceil((rows + 1) / 8));
    expect(drain(registry.netChangesInSteps(0, v)).steps).toBe(1);
  });

  it('refuses a page size that is not a positive integer and a range outside the registry', () => {
    const { registry } = tempRegistry();
    must(registry.createOrder(order('A', ['a.example']), 'alice'));
    expect(() => registry.netChangesInSteps(0, 1, 0).next()).toThrow(/pageRows 0/);
    expect(() => registry.netChangesInSteps(1, 0).next()).toThrow(/version range 1\.\.0/);
    expect(() => registry.netChangesInSteps(0, 2).next()).toThrow(RangeError);
  });
});
