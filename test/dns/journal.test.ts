import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Change, FeedEntry } from '../../src/core/types.ts';
import {
  changeRecords,
  DEFAULT_PIECE_RECORDS,
  splitVersion,
  TransferJournal,
} from '../../src/dns/journal.ts';
import { recordKey } from '../../src/dns/zone-records.ts';
import { resolveRenderOptions } from '../../src/render/options.ts';
import { type RpzRecord, rpzRecords } from '../../src/render/rpz-records.ts';
import { SERIALS_PER_VERSION, serialNewer, zoneSerial } from '../../src/render/serial.ts';
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
          // Pieces of at most 3 records: every version of more changes is cut into several.
          const journal = new TransferJournal(10, 100, 3);
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
          const whole = journal.diffSince(zoneSerial(100 + from), Number.POSITIVE_INFINITY);
          // A secondary taking one bounded IXFR after the other, each from the serial the last one ended at.
          let zone = zoneKeys((states[from] as Map<string, FeedEntry>).values());
          let serial = zoneSerial(100 + from);
          for (let diff = journal.diffSince(serial); diff; diff = journal.diffSince(serial)) {
            if (diff.fromSerial !== serial || !serialNewer(diff.toSerial, serial)) return false;
            zone = apply(zone, diff.deleted, diff.added);
            serial = diff.toSerial;
          }
          if (!whole) return false;
          const expected = zoneKeys((states.at(-1) as Map<string, FeedEntry>).values());
          const wholeResult = apply(
            zoneKeys((states[from] as Map<string, FeedEntry>).values()),
            whole.deleted,
            whole.added,
          );
          return (
            whole.toVersion === 99 + states.length &&
            serial === zoneSerial(99 + states.length) &&
            [...wholeResult].sort().join() === [...expected].sort().join() &&
            [...zone].sort().join() === [...expected].sort().join()
          );
        },
      ),
    );
  });

  it('keeps only the newest steps and restarts when a step does not continue from its head', () => {
    const journal = new TransferJournal(2, 1);
    for (let v = 2; v <= 4; v++) journal.append({ fromVersion: v - 1, toVersion: v, deleted: [], added: [] });
    expect(journal.length).toBe(2);
    expect(journal.diffSince(zoneSerial(1))).toBeUndefined();
    expect(journal.diffSince(zoneSerial(2))?.toVersion).toBe(4);
    journal.append({ fromVersion: 7, toVersion: 8, deleted: [], added: [] });
    expect([journal.length, journal.headVersion, journal.diffSince(zoneSerial(3))]).toEqual([
      1,
      8,
      undefined,
    ]);
    expect(() => new TransferJournal(-1, 0)).toThrow(/journalVersions/);
    expect(() => new TransferJournal(1, 0, 0)).toThrow(/pieceRecords/);
  });

  it('keeps no more records than its budget: old versions go first, a version larger than it is not kept', () => {
    const step = (from: number, names: string[]) => ({
      fromVersion: from,
      toVersion: from + 1,
      ...changeRecords(
        names.map((name) => ({ ...domainEntry(name), op: 'add' as const })),
        options,
      ),
    });
    // Every domain entry is two records (name and *.name).
    const journal = new TransferJournal(10, 1, DEFAULT_PIECE_RECORDS, 5);
    journal.append(step(1, ['a.test']));
    journal.append(step(2, ['b.test']));
    expect([journal.length, journal.records]).toEqual([2, 4]);
    journal.append(step(3, ['c.test']));
    expect([journal.length, journal.records]).toEqual([2, 4]);
    expect(journal.diffSince(zoneSerial(1))).toBeUndefined();
    expect(journal.diffSince(zoneSerial(2))?.added).toHaveLength(4);
    expect([journal.fits(5), journal.fits(6)]).toEqual([true, false]);

    journal.append(step(4, ['d.test', 'e.test', 'f.test']));
    expect([journal.length, journal.records, journal.headVersion]).toEqual([0, 0, 5]);
    expect(journal.diffSince(zoneSerial(4))).toBeUndefined();
    journal.append(step(5, ['g.test']));
    expect(journal.diffSince(zoneSerial(5))?.added.map(recordKey)).toEqual([
      'g.test CNAME .',
      '*.g.test CNAME .',
    ]);
    expect(() => new TransferJournal(1, 0, 1, -1)).toThrow(/journalRecords/);
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
    expect(journal.diffSince(zoneSerial(0))).toBeUndefined();
    journal.append(step(5, 6, 'b.test'));
    expect(journal.diffSince(zoneSerial(5))?.added.map(recordKey)).toEqual([
      'b.test CNAME .',
      '*.b.test CNAME .',
    ]);
  });

  it('cuts a large version into pieces with serials between its own and the next, deletions first', () => {
    const names = Array.from({ length: 10 }, (_, i) => `n${i}.test`);
    const change = {
      fromVersion: 7,
      toVersion: 8,
      ...changeRecords(
        [
          ...names.slice(0, 3).map((name) => ({ ...domainEntry(name), op: 'remove' as const })),
          ...names.slice(3).map((name) => ({ ...domainEntry(name), op: 'add' as const })),
        ],
        options,
      ),
    };
    const pieces = splitVersion(change, 4);
    expect(pieces.map((p) => [p.fromSerial, p.toSerial, p.fromVersion, p.toVersion])).toEqual([
      [7 * 64, 7 * 64 + 1, 7, 7],
      [7 * 64 + 1, 7 * 64 + 2, 7, 7],
      [7 * 64 + 2, 7 * 64 + 3, 7, 7],
      [7 * 64 + 3, 7 * 64 + 4, 7, 7],
      [7 * 64 + 4, 8 * 64, 7, 8],
    ]);
    expect(pieces.map((p) => [p.deleted.length, p.added.length])).toEqual([
      [4, 0],
      [2, 2],
      [0, 4],
      [0, 4],
      [0, 4],
    ]);
    // A version larger than SERIALS_PER_VERSION pieces gets bigger pieces, never more serials.
    const added = Array.from({ length: 10 }, () => change.added).flat();
    const huge = splitVersion({ ...change, added }, 1);
    expect(huge).toHaveLength(SERIALS_PER_VERSION);
    expect(huge.every((piece) => piece.deleted.length + piece.added.length >= 2)).toBe(true);
    expect(huge.at(-1)?.toSerial).toBe(zoneSerial(8));
  });

  it('answers each IXFR with at most the piece budget, whole pieces and small versions condensed', () => {
    const journal = new TransferJournal(10, 1, 4);
    const add = (from: number, to: number, ...names: string[]) =>
      journal.append({
        fromVersion: from,
        toVersion: to,
        ...changeRecords(
          names.map((name) => ({ ...domainEntry(name), op: 'add' as const })),
          options,
        ),
      });
    add(1, 2, 'a.test');
    add(2, 3, 'b.test');
    add(3, 4, 'c.test', 'd.test', 'e.test', 'f.test');
    // Versions 2 and 3 fit in one answer of 4 records; version 4 (8 records) comes in two pieces.
    const first = journal.diffSince(zoneSerial(1));
    expect([first?.toSerial, first?.toVersion, first?.added.length]).toEqual([zoneSerial(3), 3, 4]);
    const second = journal.diffSince(zoneSerial(3));
    expect([second?.toSerial, second?.toVersion, second?.added.length]).toEqual([zoneSerial(3, 1), 3, 4]);
    const third = journal.diffSince(zoneSerial(3, 1));
    expect([third?.toSerial, third?.fromVersion, third?.toVersion]).toEqual([zoneSerial(4), 3, 4]);
    expect(journal.diffSince(zoneSerial(4))).toBeUndefined();
  });
});
