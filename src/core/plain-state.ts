/**
 * The state of a plain feed (`dns`, `url`): a sorted map expression -> entry kept as its canonical
 * snapshot payload plus a line index. Ten million entries then cost their text and 4 bytes each
 * instead of ten million objects, the checksum is one digest over bytes already in memory, and a delta
 * is applied by copying runs of unchanged lines.
 */
import { sha256Hex } from './bytes.ts';
import {
  compareExpressionAt,
  compareExpressions,
  decodeDelta,
  encodeSnapshot,
  entryAt,
  indexSnapshot,
  type PlainChange,
  snapshotLine,
} from './plain-payload.ts';
import type { Change, FeedEntry, Result } from './types.ts';
import { fail, ok } from './types.ts';

const encoder = new TextEncoder();

/**
 * The checksum a manifest carries for a plain feed: hex SHA-256 of the canonical snapshot payload of
 * the state. The hub computes it from its entries, which must come sorted by expression.
 */
export async function plainChecksum(sortedEntries: Iterable<FeedEntry>): Promise<string> {
  return sha256Hex(encodeSnapshot(sortedEntries));
}

/** An immutable plain feed state; every update returns a new one. */
export class PlainState {
  readonly #bytes: Uint8Array;
  /** Start of each line, then the payload length. */
  readonly #starts: Uint32Array;
  #checksum: Promise<string> | undefined;

  private constructor(bytes: Uint8Array, starts: Uint32Array) {
    this.#bytes = bytes;
    this.#starts = starts;
  }

  /** The state with no entries. */
  static empty(): PlainState {
    return new PlainState(new Uint8Array(0), new Uint32Array(1));
  }

  /** The state held by a snapshot payload (copied, so the caller may reuse its buffer). */
  static fromSnapshot(payload: Uint8Array): Result<PlainState> {
    const starts = indexSnapshot(payload);
    return starts.ok ? ok(new PlainState(payload.slice(), starts.value)) : starts;
  }

  /** The state of `entries` in any order; throws `PlainPayloadError` on an invalid or duplicate entry. */
  static fromEntries(entries: Iterable<FeedEntry>): PlainState {
    const sorted = [...entries].sort((a, b) => compareExpressions(a.expression, b.expression));
    const bytes = encodeSnapshot(sorted);
    const starts = indexSnapshot(bytes);
    if (!starts.ok) throw new Error(`encodeSnapshot produced an invalid payload: ${starts.error.message}`);
    return new PlainState(bytes, starts.value);
  }

  get entryCount(): number {
    return this.#starts.length - 1;
  }

  /** Hex SHA-256 of {@link toSnapshotPayload} (computed once). */
  checksum(): Promise<string> {
    this.#checksum ??= sha256Hex(this.#bytes);
    return this.#checksum;
  }

  /** The canonical snapshot payload of this state. Shared, not copied: do not modify it. */
  toSnapshotPayload(): Uint8Array {
    return this.#bytes;
  }

  /** The entry of `expression`, if present. */
  get(expression: string): FeedEntry | undefined {
    const line = this.#find(expression);
    return line === -1 ? undefined : this.#entry(line);
  }

  has(expression: string): boolean {
    return this.#find(expression) !== -1;
  }

  /** Whether any of a URL's lookup expressions is an entry. */
  isBlocked(expressions: readonly string[]): boolean {
    return expressions.some((e) => this.has(e));
  }

  /** Entries in expression order. */
  *entries(): IterableIterator<FeedEntry> {
    for (let i = 0; i < this.entryCount; i++) yield this.#entry(i);
  }

  /**
   * The state after a delta payload. A remove of an absent expression or an add of a present one means
   * this state is not the delta's base: `resync_required` (fetch a snapshot).
   */
  applyDelta(payload: Uint8Array): Result<PlainState> {
    const changes = decodeDelta(payload);
    return changes.ok ? this.#apply(changes.value) : changes;
  }

  /** `changes` must be sorted and free of duplicates, as `decodeDelta` guarantees. */
  #apply(changes: readonly PlainChange[]): Result<PlainState> {
    // Pieces of the new payload: runs [from, to) of this state's lines, or new lines.
    const pieces: ([number, number] | Uint8Array)[] = [];
    let line = 0;
    for (const change of changes) {
      const query = change.expression;
      const next = this.#lowerBound(query, line);
      if (next > line) pieces.push([line, next]);
      line = next;
      const present = line < this.entryCount && this.#compare(line, query) === 0;
      if (change.op === 'remove') {
        if (!present)
          return fail('resync_required', `delta removes "${change.expression}", which is not in the state`);
        line++;
      } else {
        if (present)
          return fail('resync_required', `delta adds "${change.expression}", which is already in the state`);
        pieces.push(encoder.encode(snapshotLine(change)));
      }
    }
    if (line < this.entryCount) pieces.push([line, this.entryCount]);
    return ok(this.#build(pieces));
  }

  #build(pieces: ([number, number] | Uint8Array)[]): PlainState {
    let size = 0;
    let count = 0;
    for (const piece of pieces) {
      if (piece instanceof Uint8Array) {
        size += piece.length;
        count++;
      } else {
        size += (this.#starts[piece[1]] as number) - (this.#starts[piece[0]] as number);
        count += piece[1] - piece[0];
      }
    }
    const bytes = new Uint8Array(size);
    const starts = new Uint32Array(count + 1);
    let offset = 0;
    let line = 0;
    for (const piece of pieces) {
      if (piece instanceof Uint8Array) {
        starts[line++] = offset;
        bytes.set(piece, offset);
        offset += piece.length;
        continue;
      }
      const from = this.#starts[piece[0]] as number;
      const to = this.#starts[piece[1]] as number;
      bytes.set(this.#bytes.subarray(from, to), offset);
      for (let i = piece[0]; i < piece[1]; i++) starts[line++] = (this.#starts[i] as number) - from + offset;
      offset += to - from;
    }
    starts[count] = size;
    return new PlainState(bytes, starts);
  }

  #find(expression: string): number {
    const line = this.#lowerBound(expression, 0);
    return line < this.entryCount && this.#compare(line, expression) === 0 ? line : -1;
  }

  /** First line at or after `from` whose expression is >= `query`. */
  #lowerBound(query: string, from: number): number {
    let lo = from;
    let hi = this.entryCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compare(mid, query) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #compare(line: number, query: string): number {
    return compareExpressionAt(this.#bytes, this.#starts[line] as number, query);
  }

  #entry(line: number): FeedEntry {
    return entryAt(this.#bytes, this.#starts[line] as number, this.#starts[line + 1] as number);
  }
}

/**
 * The net changes that turn `a` into `b`, sorted as a delta payload orders them; an entry whose
 * category or action changed is a remove then an add. `a.applyDelta(encodeDelta(diff(a, b)))` is `b`.
 */
export function diff(a: PlainState, b: PlainState): Change[] {
  const changes: Change[] = [];
  const left = a.entries();
  const right = b.entries();
  let x = left.next();
  let y = right.next();
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : compareExpressions(x.value.expression, y.value.expression);
    if (order < 0 && !x.done) {
      changes.push({ op: 'remove', ...x.value });
      x = left.next();
    } else if (order > 0 && !y.done) {
      changes.push({ op: 'add', ...y.value });
      y = right.next();
    } else if (!x.done && !y.done) {
      const before = x.value;
      const after = y.value;
      if (
        before.kind !== after.kind ||
        before.category !== after.category ||
        before.action !== after.action
      ) {
        changes.push({ op: 'remove', ...before }, { op: 'add', ...after });
      }
      x = left.next();
      y = right.next();
    }
  }
  return changes;
}
