import type { Change } from '../core/types.ts';
import type { RenderOptions } from '../render/options.ts';
import { type RpzRecord, rpzRecords } from '../render/rpz-records.ts';
import { SERIALS_PER_VERSION, zoneSerial } from '../render/serial.ts';
import { recordKey } from './zone-records.ts';

// The IXFR journal (RFC 1995): the records each published version deleted and added, for a bounded
// number of recent versions, so a secondary a few versions behind pulls only the difference. A large
// version is kept as several pieces, each with its own SOA serial, so that a secondary can be handed
// it one bounded IXFR at a time (docs/DECISIONS.md, "IXFR pieces").

/** What one published version deleted and added. */
export interface VersionChange {
  fromVersion: number;
  toVersion: number;
  deleted: RpzRecord[];
  added: RpzRecord[];
}

/**
 * The records deleted and added between two SOA serials: one piece, or several condensed. The zone
 * carries the canary of `fromVersion` before and of `toVersion` after (equal inside a version's pieces).
 */
export interface ZoneDiff extends VersionChange {
  fromSerial: number;
  toSerial: number;
}

/** Default records per IXFR piece: Unbound applies each transfer in its query thread, ~6 µs per record. */
export const DEFAULT_PIECE_RECORDS = 4_096;

/** The policy records a change set removes and adds (only `domain` entries produce any). */
export function changeRecords(
  changes: Iterable<Change>,
  options: RenderOptions,
): { deleted: RpzRecord[]; added: RpzRecord[] } {
  const deleted: RpzRecord[] = [];
  const added: RpzRecord[] = [];
  for (const change of changes) {
    const records = rpzRecords(change, options);
    (change.op === 'remove' ? deleted : added).push(...records);
  }
  return { deleted, added };
}

const size = (diff: ZoneDiff) => diff.deleted.length + diff.added.length;

/**
 * Cuts one version's change into at most SERIALS_PER_VERSION pieces of about `pieceRecords` records,
 * every deletion before every addition, so each intermediate zone is a consistent one: an entry whose
 * records are deleted and added back in the same version never goes missing.
 */
export function splitVersion(change: VersionChange, pieceRecords: number): ZoneDiff[] {
  const records = [
    ...change.deleted.map((record) => ({ record, deleted: true })),
    ...change.added.map((record) => ({ record, deleted: false })),
  ];
  const count = Math.min(SERIALS_PER_VERSION, Math.max(1, Math.ceil(records.length / pieceRecords)));
  const pieces: ZoneDiff[] = [];
  for (let i = 0; i < count; i++) {
    const slice = records.slice(
      Math.floor((i * records.length) / count),
      Math.floor(((i + 1) * records.length) / count),
    );
    const last = i === count - 1;
    pieces.push({
      fromVersion: change.fromVersion,
      toVersion: last ? change.toVersion : change.fromVersion,
      fromSerial: zoneSerial(change.fromVersion, i),
      toSerial: last ? zoneSerial(change.toVersion) : zoneSerial(change.fromVersion, i + 1),
      deleted: slice.filter((r) => r.deleted).map((r) => r.record),
      added: slice.filter((r) => !r.deleted).map((r) => r.record),
    });
  }
  return pieces;
}

/**
 * Default bound on the records the journal holds, over all kept versions: about 100 MiB of records. A
 * version of more (a revoke of a million names) is not journaled at all: a secondary behind it transfers the
 * whole zone, which costs it less than an IXFR of that size, and the hub does not hold the difference.
 */
export const DEFAULT_JOURNAL_RECORDS = 1_000_000;

/**
 * Keeps the last `limit` versions, and no more than `maxRecords` records in all; a version that does not
 * continue from the head starts a new history.
 */
export class TransferJournal {
  /** The pieces of each kept version, oldest first. */
  readonly #versions: ZoneDiff[][] = [];
  #records = 0;
  #head: number;

  constructor(
    private readonly limit: number,
    headVersion: number,
    private readonly pieceRecords = DEFAULT_PIECE_RECORDS,
    private readonly maxRecords = DEFAULT_JOURNAL_RECORDS,
  ) {
    if (!Number.isInteger(limit) || limit < 0)
      throw new RangeError(`journalVersions: ${limit} is not a count`);
    if (!Number.isInteger(pieceRecords) || pieceRecords < 1)
      throw new RangeError(`pieceRecords: ${pieceRecords} is not a positive count`);
    if (!Number.isInteger(maxRecords) || maxRecords < 0)
      throw new RangeError(`journalRecords: ${maxRecords} is not a count`);
    this.#head = headVersion;
  }

  /** Whether a version of `changes` changes is journaled (else `restart` it: each change is a record or more). */
  fits(changes: number): boolean {
    return changes <= this.maxRecords;
  }

  /** Records kept, over all versions. */
  get records(): number {
    return this.#records;
  }

  /** The version the newest step leads to (or the one the journal started at). */
  get headVersion(): number {
    return this.#head;
  }

  /** Versions kept. */
  get length(): number {
    return this.#versions.length;
  }

  /** Forgets every step: the zone is now at `version` by a change nobody can replay (a fresh load). */
  restart(version: number): void {
    this.#versions.length = 0;
    this.#records = 0;
    this.#head = version;
  }

  append(change: VersionChange): void {
    const records = change.deleted.length + change.added.length;
    if (change.fromVersion !== this.#head || records > this.maxRecords) this.restart(change.fromVersion);
    this.#head = change.toVersion;
    if (this.limit === 0 || records > this.maxRecords) return;
    this.#versions.push(splitVersion(change, this.pieceRecords));
    this.#records += records;
    while (this.#versions.length > this.limit || this.#records > this.maxRecords) {
      const oldest = this.#versions.shift() as ZoneDiff[];
      for (const piece of oldest) this.#records -= size(piece);
    }
  }

  /**
   * The condensed difference from the zone at SOA serial `serial` onwards, or undefined when the
   * journal does not reach back that far. It ends at the head, or earlier, at a piece boundary, once
   * `maxRecords` (default: the piece size) would be exceeded; it always holds at least one piece. A record added then deleted
   * within the range cancels out, as does one deleted then added back.
   */
  diffSince(serial: number, maxRecords = this.pieceRecords): ZoneDiff | undefined {
    const pieces = this.#versions.flat();
    const start = pieces.findIndex((piece) => piece.fromSerial === serial);
    if (start === -1) return undefined;
    const deleted = new Map<string, RpzRecord>();
    const added = new Map<string, RpzRecord>();
    let taken = 0;
    let end = start;
    for (; end < pieces.length; end++) {
      const piece = pieces[end] as ZoneDiff;
      if (end > start && taken + size(piece) > maxRecords) break;
      taken += size(piece);
      for (const record of piece.deleted) {
        const key = recordKey(record);
        if (!added.delete(key)) deleted.set(key, record);
      }
      for (const record of piece.added) {
        const key = recordKey(record);
        if (!deleted.delete(key)) added.set(key, record);
      }
    }
    const first = pieces[start] as ZoneDiff;
    const last = pieces[end - 1] as ZoneDiff;
    return {
      fromVersion: first.fromVersion,
      toVersion: last.toVersion,
      fromSerial: first.fromSerial,
      toSerial: last.toSerial,
      deleted: [...deleted.values()],
      added: [...added.values()],
    };
  }
}
