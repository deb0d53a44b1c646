import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Change, FeedEntry } from '../../src/core/types.ts';
import { changeRecords, TransferJournal } from '../../src/dns/journal.ts';
import { recordKey } from '../../src/dns/zone-records.ts';
import { resolveRenderOptions } from '../../src/render/options.ts';
import { type RpzRecord, rpzRecords } from '../../src/render/rpz-records.ts';
import { domainEntry } from './dns-tools.ts';

const options = resolveRenderOptions({ walledGardenAddresses: ['192.0.2.1'] });

function zoneKeys(entries: Iterable<FeedEntry>): Set<string> {
  const keys = new Set<string>();
  for (const entry of entries) for (const record of rpzRecords(entry, options)) keys.add(recordKey(record));
  return keys;
}

function apply(zone: Set<string>, deleted: RpzRecord[], added: RpzRecord[]): Set<string> {
  const next = new Set(zone);
  for (const record of deleted) next.delete(recordKey(record));
  for (const record of added) next.add(recordKey(record));
  return next;
}

describe('the IXFR journal', () => {
  it('turns changes into the records of domain entries only', () => {
    const changes: Change[] = [
      { ...domainEntry('a.test'), op: 'add' },
      { expression: 'a.test/login', kind: 'url', category: 'phishing', action: 'block', op: 'add' },
      { ...domainEntry('b.test', 'redirect'), op: 'remove' },
    ];
    const { deleted, added } = changeRecords(changes, options);
    expect(added.map(recordKey)).toEqual(['a.test CNAME .', '*.a.test CNAME .']);
    expect(deleted.map(recordKey)).toEqual(['b.test A 192.0.2.1', '*.b.test A 192.0.2.1']);
  });

  it('condenses any run of steps so that applying it to the old zone gives the new one', () => {
    const names = ['a.test', 'b.test', 'c.test', 'd.test', 'e.test'];
    const entry = fc.record({
      name: fc.constantFrom(...names),
      action: fc.constantFrom<FeedEntry['action']>('block', 'redirect'),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(entry, { maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (versions, pick) => {
          // Each version is a set of entries (one per name); steps are their net differences.
          const states = [new Map<string, FeedEntry>()];
          for (const version of versions) {
            const state = new Map<string, FeedEntry>();
            for (const { name, action } of version) state.set(name, domainEntry(name, action));
            states.push(state);
          }
          const journal = new TransferJournal(10, 100);
          for (let v = 1; v < states.length; v++) {
            const before = states[v - 1] as Map<string, FeedEntry>;
            const after = states[v] as Map<string, FeedEntry>;
            const changes: Change[] = [];
            for (const [name, old] of before)
              if (after.get(name)?.action !== old.action) changes.push({ ...old, op: 'remove' });
            for (const [name, now] of after)
              if (before.get(name)?.action !== now.action) changes.push({ ...now, op: 'add' });
            journal.append({ fromVersion: 99 + v, toVersion: 100 + v, ...changeRecords(changes, options) });
          }
          const from = pick % (states.length - 1);
          const diff = journal.diffSince(100 + from);
          if (!diff) return false;
          const result = apply(
            zoneKeys((states[from] as Map<string, FeedEntry>).values()),
            diff.deleted,
            diff.added,
          );
          const expected = zoneKeys((states.at(-1) as Map<string, FeedEntry>).values());
          return (
            diff.toVersion === 99 + states.length && [...result].sort().join() === [...expected].sort().join()
          );
        },
      ),
    );
  });

  it('keeps only the newest steps and restarts when a step does not continue from its head', () => {
    const journal = new TransferJournal(2, 1);
    for (let v = 2; v <= 4; v++) journal.append({ fromVersion: v - 1, toVersion: v, deleted: [], added: [] });
    expect(journal.length).toBe(2);
    expect(journal.diffSince(1)).toBeUndefined();
    expect(journal.diffSince(2)?.toVersion).toBe(4);
    journal.append({ fromVersion: 7, toVersion: 8, deleted: [], added: [] });
    expect([journal.length, journal.headVersion, journal.diffSince(3)]).toEqual([1, 8, undefined]);
    expect(() => new TransferJournal(-1, 0)).toThrow(/journalVersions/);
  });

  it('restarts at a fresh state: nothing before it can be replayed, later steps can', () => {
    const journal = new TransferJournal(10, 0);
    const step = (from: number, to: number, name: string) => ({
      fromVersion: from,
      toVersion: to,
      ...changeRecords([{ ...domainEntry(name), op: 'add' }], options),
    });
    journal.append(step(0, 1, 'a.test'));
    journal.restart(5);
    expect(journal.headVersion).toBe(5);
    expect(journal.length).toBe(0);
    expect(journal.diffSince(0)).toBeUndefined();
    journal.append(step(5, 6, 'b.test'));
    expect(journal.diffSince(5)?.added.map(recordKey)).toEqual(['b.test CNAME .', '*.b.test CNAME .']);
  });
});
