/**
 * The state of a plain feed (`dns`, `url`): a sorted map expression -> entry held as chunks of canonical
 * snapshot lines, each chunk bytes plus a line index. Ten million entries then cost their text and 4
 * bytes each instead of ten million objects; a delta of k changes rebuilds only the chunks it touches
 * and copies the chunk list, never the whole state, and updates the set-hash checksum (set-hash.ts) by
 * one digest per change. Versions share their untouched chunks.
 */

import { concatBytes } from './bytes.ts';
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
import { MutableSetHash, SetHash } from './set-hash.ts';
import type { Change, FeedEntry, Result } from './types.ts';
import { fail, ok } from './types.ts';

const encoder = new TextEncoder();

/** Lines per chunk when a state is loaded; a chunk grown past twice this is split. */
const CHUNK_LINES = 1024;
/**
 * Shortest run of another state's lines that a derived state keeps as a view (see `fromLineRuns`); shorter
 * runs are copied together, since a chunk of a few lines costs more than their bytes.
 */
const SHARED_RUN_LINES = 32;
const TAB = 0x09;
const DOMAIN_KIND = encoder.encode('domain\t');

/**
 * Validated snapshot lines in order: line i is `bytes[starts[i], starts[i + 1])`, LF included; `starts`
 * may be a view of a larger index.
 */
export interface SnapshotLines {
  readonly bytes: Uint8Array;
  readonly starts: Uint32Array;
}

/** Sorted lines, a piece of the state. */
interface Chunk extends SnapshotLines {
  /** The first line's expression, to find a chunk by binary search. */
  readonly first: string;
}

const linesOf = (chunk: Chunk) => chunk.starts.length - 1;

/** The set-hash checksum of snapshot lines `payload[starts[i], starts[i+1])`. */
export function setHashOfLines(payload: Uint8Array, starts: Uint32Array): SetHash {
  const sum = new MutableSetHash();
  for (let i = 0; i + 1 < starts.length; i++) sum.add(payload, starts[i] as number, starts[i + 1] as number);
  return sum.done();
}

/**
 * The checksum a manifest carries for a plain feed: the set hash of the snapshot lines of the state. The
 * hub computes it from its entries, which must come sorted by expression.
 */
export function plainChecksum(sortedEntries: Iterable<FeedEntry>): string {
  const payload = encodeSnapshot(sortedEntries);
  const starts = indexSnapshot(payload);
  if (!starts.ok) throw new Error(`encodeSnapshot produced an invalid payload: ${starts.error.message}`);
  return setHashOfLines(payload, starts.value).hex();
}

/** An immutable plain feed state; every update returns a new one. */
export class PlainState {
  readonly #chunks: readonly Chunk[];
  readonly #count: number;
  readonly #sum: SetHash;

  private constructor(chunks: readonly Chunk[], count: number, sum: SetHash) {
    this.#chunks = chunks;
    this.#count = count;
    this.#sum = sum;
  }

  /** The state with no entries. */
  static empty(): PlainState {
    return new PlainState([], 0, SetHash.empty());
  }

  /**
   * The state held by a snapshot payload. By default the bytes are copied, so the caller may reuse its
   * buffer; `'adopt'` keeps views of `payload` instead (the caller hands it over and never changes it),
   * so a consumer holding a 10M-entry download does not hold it twice.
   */
  static fromSnapshot(payload: Uint8Array, ownership: 'copy' | 'adopt' = 'copy'): Result<PlainState> {
    const starts = indexSnapshot(payload);
    if (!starts.ok) return starts;
    const bytes = ownership === 'adopt' ? payload : payload.slice();
    return ok(PlainState.fromIndexed(bytes, starts.value, setHashOfLines(bytes, starts.value)));
  }

  /**
   * The state of a snapshot payload already validated and indexed (`indexSnapshot`) with its set hash,
   * as the hub's scan thread hands them over: nothing is copied or re-read, so it costs the chunk list.
   */
  static fromIndexed(payload: Uint8Array, starts: Uint32Array, sum: SetHash): PlainState {
    const count = starts.length - 1;
    const chunks: Chunk[] = [];
    for (let from = 0; from < count; from += CHUNK_LINES) {
      const to = Math.min(count, from + CHUNK_LINES);
      chunks.push(chunkOf(payload, starts.subarray(from, to + 1)));
    }
    return new PlainState(chunks, count, sum);
  }

  /**
   * The state of some lines of an indexed payload (`indexSnapshot`) with their set hash: `runs` holds
   * [from, to) line pairs, ascending. Long runs become views of `payload` and `starts`, so the `dns` state
   * derived from the `url` state (`domainLineRuns`) shares its bytes instead of holding the text twice; a
   * chunk's line index is then a view that need not continue into the next chunk's bytes.
   */
  static fromLineRuns(payload: Uint8Array, starts: Uint32Array, runs: Uint32Array, sum: SetHash): PlainState {
    const whole: Chunk = { bytes: payload, starts, first: '' };
    const chunks: Chunk[] = [];
    let copied: [number, number][] = [];
    let copiedLines = 0;
    const flush = () => {
      if (copiedLines > 0) chunks.push(...build(whole, copied));
      copied = [];
      copiedLines = 0;
    };
    let count = 0;
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const from = runs[r] as number;
      const to = runs[r + 1] as number;
      count += to - from;
      if (to - from < SHARED_RUN_LINES) {
        copied.push([from, to]);
        copiedLines += to - from;
        if (copiedLines >= CHUNK_LINES) flush();
        continue;
      }
      flush();
      for (let at = from; at < to; at += CHUNK_LINES)
        chunks.push(chunkOf(payload, starts.subarray(at, Math.min(to, at + CHUNK_LINES) + 1)));
    }
    flush();
    return new PlainState(chunks, count, sum);
  }

  /** The state of `entries` in any order; throws `PlainPayloadError` on an invalid or duplicate entry. */
  static fromEntries(entries: Iterable<FeedEntry>): PlainState {
    const sorted = [...entries].sort((a, b) => compareExpressions(a.expression, b.expression));
    const loaded = PlainState.fromSnapshot(encodeSnapshot(sorted));
    if (!loaded.ok) throw new Error(`encodeSnapshot produced an invalid payload: ${loaded.error.message}`);
    return loaded.value;
  }

  get entryCount(): number {
    return this.#count;
  }

  /** The set hash of the state's snapshot lines, 64 hex digits (see set-hash.ts). */
  checksum(): Promise<string> {
    return Promise.resolve(this.#sum.hex());
  }

  /** The canonical snapshot payload of this state (built from the chunks: O(state)). */
  toSnapshotPayload(): Uint8Array {
    return concatBytes(this.snapshotParts());
  }

  /**
   * The canonical snapshot payload as views of the state's own bytes, in order, without building it:
   * to write the state to a file. Neighbouring chunks that share a buffer make one part, so a state
   * loaded from one snapshot is a single view until deltas rebuild some of its chunks.
   */
  snapshotParts(): Uint8Array[] {
    const parts: Uint8Array[] = [];
    let bytes: Uint8Array | undefined;
    let from = 0;
    let to = 0;
    for (const chunk of this.#chunks) {
      const start = chunk.starts[0] as number;
      const end = chunk.starts[linesOf(chunk)] as number;
      if (chunk.bytes === bytes && start === to) {
        to = end;
        continue;
      }
      if (bytes) parts.push(bytes.subarray(from, to));
      bytes = chunk.bytes;
      from = start;
      to = end;
    }
    if (bytes) parts.push(bytes.subarray(from, to));
    return parts;
  }

  /**
   * The state's snapshot lines in order, as runs of lines over the state's own bytes: what a renderer
   * reads to write millions of entries without building an object or a string per entry.
   */
  *lineRuns(): IterableIterator<SnapshotLines> {
    for (const chunk of this.#chunks) yield { bytes: chunk.bytes, starts: chunk.starts };
  }

  /** The entry of `expression`, if present. */
  get(expression: string): FeedEntry | undefined {
    const chunk = this.#chunks[this.#chunkFor(expression, 0)];
    if (!chunk) return undefined;
    const line = lowerBound(chunk, expression, 0);
    return line < linesOf(chunk) && compareLine(chunk, line, expression) === 0
      ? entryOf(chunk, line)
      : undefined;
  }

  has(expression: string): boolean {
    return this.get(expression) !== undefined;
  }

  /** Whether any of a URL's lookup expressions is an entry. */
  isBlocked(expressions: readonly string[]): boolean {
    return expressions.some((e) => this.has(e));
  }

  /** Entries in expression order. */
  *entries(): IterableIterator<FeedEntry> {
    for (const chunk of this.#chunks) for (let i = 0; i < linesOf(chunk); i++) yield entryOf(chunk, i);
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
    const chunks: Chunk[] = [];
    const sum = this.#sum.mutable();
    let count = this.#count;
    let next = 0;
    let i = 0;
    while (i < changes.length) {
      const at = this.#chunkFor((changes[i] as PlainChange).expression, next);
      for (; next < at; next++) chunks.push(this.#chunks[next] as Chunk);
      // The changes that fall in chunk `at`: up to the next chunk's first expression.
      const bound = this.#chunks[at + 1]?.first;
      let end = i;
      while (
        end < changes.length &&
        (bound === undefined || (changes[end] as PlainChange).expression < bound)
      )
        end++;
      const rebuilt = applyToChunk(this.#chunks[at], changes.slice(i, end), sum);
      if (!rebuilt.ok) return rebuilt;
      count += rebuilt.value.delta;
      chunks.push(...rebuilt.value.chunks);
      next = at + 1;
      i = end;
    }
    for (; next < this.#chunks.length; next++) chunks.push(this.#chunks[next] as Chunk);
    return ok(new PlainState(chunks, count, sum.done()));
  }

  /** The last chunk at or after `from` whose first expression is <= `expression` (else `from`). */
  #chunkFor(expression: string, from: number): number {
    let lo = from;
    let hi = this.#chunks.length - 1;
    if (hi < lo) return lo;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.#chunks[mid] as Chunk).first <= expression) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function chunkOf(bytes: Uint8Array, starts: Uint32Array): Chunk {
  const first = entryAt(bytes, starts[0] as number, starts[1] as number).expression;
  return { bytes, starts, first };
}

/**
 * The chunks that replace `chunk` (absent when the state is empty) after `changes`, and how the entry
 * count moves; the set hash is updated in place.
 */
function applyToChunk(
  chunk: Chunk | undefined,
  changes: readonly PlainChange[],
  sum: MutableSetHash,
): Result<{ chunks: Chunk[]; delta: number }> {
  const lines = chunk ? linesOf(chunk) : 0;
  // Pieces of the new chunk: runs [from, to) of the old chunk's lines, or new lines.
  const pieces: ([number, number] | Uint8Array)[] = [];
  let line = 0;
  let delta = 0;
  for (const change of changes) {
    const next = chunk ? lowerBound(chunk, change.expression, line) : 0;
    if (next > line) pieces.push([line, next]);
    line = next;
    const present = chunk !== undefined && line < lines && compareLine(chunk, line, change.expression) === 0;
    if (change.op === 'remove') {
      if (!present)
        return fail('resync_required', `delta removes "${change.expression}", which is not in the state`);
      const old = chunk as Chunk;
      sum.remove(old.bytes, old.starts[line] as number, old.starts[line + 1] as number);
      delta--;
      line++;
    } else {
      if (present)
        return fail('resync_required', `delta adds "${change.expression}", which is already in the state`);
      const bytes = encoder.encode(snapshotLine(change));
      sum.add(bytes, 0, bytes.length);
      pieces.push(bytes);
      delta++;
    }
  }
  if (line < lines) pieces.push([line, lines]);
  return ok({ chunks: chunk || pieces.length > 0 ? build(chunk, pieces) : [], delta });
}

/** Concatenates pieces into one chunk's bytes and index, split into chunks of CHUNK_LINES if it grew. */
function build(chunk: Chunk | undefined, pieces: ([number, number] | Uint8Array)[]): Chunk[] {
  let size = 0;
  let count = 0;
  for (const piece of pieces) {
    if (piece instanceof Uint8Array) {
      size += piece.length;
      count++;
    } else {
      size += lineBytes(chunk as Chunk, piece[0], piece[1]);
      count += piece[1] - piece[0];
    }
  }
  if (count === 0) return [];
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
    const old = chunk as Chunk;
    const from = old.starts[piece[0]] as number;
    const to = old.starts[piece[1]] as number;
    bytes.set(old.bytes.subarray(from, to), offset);
    for (let i = piece[0]; i < piece[1]; i++) starts[line++] = (old.starts[i] as number) - from + offset;
    offset += to - from;
  }
  starts[count] = size;
  if (count <= 2 * CHUNK_LINES) return [chunkOf(bytes, starts)];
  const split: Chunk[] = [];
  for (let from = 0; from < count; from += CHUNK_LINES)
    split.push(chunkOf(bytes, starts.subarray(from, Math.min(count, from + CHUNK_LINES) + 1)));
  return split;
}

/**
 * The runs of `domain` lines of an indexed `url` snapshot payload, as [from, to) line pairs: the `dns`
 * feed's lines are exactly these, byte for byte (feed-definitions.ts), so `fromLineRuns` over them gives
 * the `dns` state.
 */
export function domainLineRuns(payload: Uint8Array, starts: Uint32Array): Uint32Array {
  let runs = new Uint32Array(64);
  let used = 0;
  const lines = starts.length - 1;
  for (let line = 0; line < lines; line++) {
    if (!isDomainLine(payload, starts[line] as number)) continue;
    if (used > 0 && runs[used - 1] === line) {
      runs[used - 1] = line + 1;
      continue;
    }
    if (used + 2 > runs.length) {
      const grown = new Uint32Array(runs.length * 2);
      grown.set(runs);
      runs = grown;
    }
    runs[used++] = line;
    runs[used++] = line + 1;
  }
  return runs.slice(0, used);
}

function isDomainLine(payload: Uint8Array, start: number): boolean {
  const kind = payload.indexOf(TAB, start) + 1;
  for (let i = 0; i < DOMAIN_KIND.length; i++) if (payload[kind + i] !== DOMAIN_KIND[i]) return false;
  return true;
}

const lineBytes = (chunk: Chunk, from: number, to: number) =>
  (chunk.starts[to] as number) - (chunk.starts[from] as number);

/** First line at or after `from` whose expression is >= `query`. */
function lowerBound(chunk: Chunk, query: string, from: number): number {
  let lo = from;
  let hi = linesOf(chunk);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareLine(chunk, mid, query) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const compareLine = (chunk: Chunk, line: number, query: string) =>
  compareExpressionAt(chunk.bytes, chunk.starts[line] as number, query);

const entryOf = (chunk: Chunk, line: number): FeedEntry =>
  entryAt(chunk.bytes, chunk.starts[line] as number, chunk.starts[line + 1] as number);

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
