import type { Change } from '../core/types.ts';
import type { RenderOptions } from '../render/options.ts';
import { type RpzRecord, rpzRecords } from '../render/rpz-records.ts';
import { rpzSerial } from '../render/serial.ts';
import { recordKey } from './zone-records.ts';

// The IXFR journal (RFC 1995): the records each published version deleted and added, for a bounded
// number of recent versions, so a secondary a few versions behind pulls only the difference.

/** The records deleted and added between two versions: one step, or several condensed. */
export interface ZoneDiff {
  fromVersion: number;
  toVersion: number;
  deleted: RpzRecord[];
  added: RpzRecord[];
}

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

/** Keeps the last `limit` steps; a step that does not continue from the head starts a new history. */
export class TransferJournal {
  readonly #steps: ZoneDiff[] = [];
  #head: number;

  constructor(
    private readonly limit: number,
    headVersion: number,
  ) {
    if (!Number.isInteger(limit) || limit < 0)
      throw new RangeError(`journalVersions: ${limit} is not a count`);
    this.#head = headVersion;
  }

  /** The version the newest step leads to (or the one the journal started at). */
  get headVersion(): number {
    return this.#head;
  }

  get length(): number {
    return this.#steps.length;
  }

  /** Forgets every step: the zone is now at `version` by a change nobody can replay (a fresh load). */
  restart(version: number): void {
    this.#steps.length = 0;
    this.#head = version;
  }

  append(step: ZoneDiff): void {
    if (step.fromVersion !== this.#head) this.#steps.length = 0;
    this.#head = step.toVersion;
    if (this.limit === 0) return;
    this.#steps.push(step);
    if (this.#steps.length > this.limit) this.#steps.shift();
  }

  /**
   * The condensed difference from the version whose SOA serial is `serial` to the head, or
   * undefined when the journal does not reach back that far. A record added then deleted within
   * the range cancels out, as does one deleted then added back.
   */
  diffSince(serial: number): ZoneDiff | undefined {
    const start = this.#steps.findIndex((step) => rpzSerial(step.fromVersion) === serial);
    if (start === -1) return undefined;
    const deleted = new Map<string, RpzRecord>();
    const added = new Map<string, RpzRecord>();
    for (let i = start; i < this.#steps.length; i++) {
      const step = this.#steps[i] as ZoneDiff;
      for (const record of step.deleted) {
        const key = recordKey(record);
        if (!added.delete(key)) deleted.set(key, record);
      }
      for (const record of step.added) {
        const key = recordKey(record);
        if (!deleted.delete(key)) added.set(key, record);
      }
    }
    const fromVersion = (this.#steps[start] as ZoneDiff).fromVersion;
    return { fromVersion, toVersion: this.#head, deleted: [...deleted.values()], added: [...added.values()] };
  }
}
