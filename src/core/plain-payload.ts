/**
 * Payloads of the plain feeds (`dns`, `url`): UTF-8 text, one entry per line, tab separated, so an
 * operator can read them with grep, cut and `LC_ALL=C sort -c`.
 *
 *   snapshot line   <expression> TAB <kind> TAB <category> TAB <action> LF
 *   delta line      + TAB <expression> TAB <kind> TAB <category> TAB <action> LF     (add)
 *                   - TAB <expression> LF                                             (remove)
 *
 * Lines are sorted by expression in byte order without duplicates; in a delta one expression may
 * appear twice only as a `-` line followed by a `+` line (its category or action changed). Every line,
 * the last one included, ends with LF; an empty payload has no entries. Expressions are canonical
 * (printable ASCII, 0x21-0x7e), so byte order equals JavaScript string order and a tab, sorting below
 * every expression byte, keeps whole lines in the same order as their expressions.
 */
import { concatBytes } from './bytes.ts';
import {
  ACTIONS,
  type Action,
  CATEGORIES,
  type Category,
  type EntryKind,
  type FeedEntry,
  fail,
  ok,
  type Result,
} from './types.ts';

/** A delta line: an add carries the whole entry, a remove only the expression. A `Change` is one. */
export type PlainChange = (FeedEntry & { op: 'add' }) | { op: 'remove'; expression: string };

/** Thrown by the encoders, which only the hub calls with entries it already validated. */
export class PlainPayloadError extends Error {
  override name = 'PlainPayloadError';
}

const LF = 0x0a;
const TAB = 0x09;
const PLUS = 0x2b;
const MINUS = 0x2d;
const KINDS: readonly EntryKind[] = ['domain', 'url'];
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** One fields array per tail, by (kind, category, action) index: tailAt hands out the same one each time. */
const TAIL_FIELDS = KINDS.flatMap((kind) =>
  CATEGORIES.flatMap((category) =>
    ACTIONS.map((action) => [kind, category, action] as readonly [EntryKind, Category, Action]),
  ),
);
/** The bytes of each tail (TAB kind TAB category TAB action), by the same index. */
const TAIL_BYTES = TAIL_FIELDS.map((fields) => encoder.encode(`\t${fields.join('\t')}`));

/**
 * The index of each word of a field by its first byte (-1: none): the words of each field start with
 * distinct letters, so loading millions of lines finds a line's tail by three bytes and checks it once.
 */
export function wordsByFirstByte(words: readonly string[]): Int8Array {
  const byFirst = new Int8Array(128).fill(-1);
  words.forEach((word, index) => {
    const first = word.charCodeAt(0);
    if (first >= 128 || byFirst[first] !== -1) {
      throw new Error(`"${word}" does not start with a letter of its own among ${words.join(', ')}`);
    }
    byFirst[first] = index;
  });
  return byFirst;
}

const KIND_BY_FIRST = wordsByFirstByte(KINDS);
const CATEGORY_BY_FIRST = wordsByFirstByte(CATEGORIES);
const ACTION_BY_FIRST = wordsByFirstByte(ACTIONS);

/**
 * The index of the tail at `payload[tab...]` (TAB kind TAB category TAB action, then anything), or -1: the
 * only tail the first bytes of its words allow, compared byte for byte.
 */
function tailIndexAt(payload: Uint8Array, tab: number): number {
  const kind = KIND_BY_FIRST[payload[tab + 1] as number] ?? -1;
  if (kind < 0) return -1;
  const categoryAt = tab + 2 + (KINDS[kind] as string).length;
  const category = CATEGORY_BY_FIRST[payload[categoryAt] as number] ?? -1;
  if (category < 0) return -1;
  const action =
    ACTION_BY_FIRST[payload[categoryAt + (CATEGORIES[category] as string).length + 1] as number] ?? -1;
  if (action < 0) return -1;
  const index = (kind * CATEGORIES.length + category) * ACTIONS.length + action;
  const tail = TAIL_BYTES[index] as Uint8Array;
  if (tab + tail.length > payload.length) return -1;
  for (let i = 0; i < tail.length; i++) if (payload[tab + i] !== tail[i]) return -1;
  return index;
}

/** Whether `expression` can be written in a payload: non-empty printable ASCII without spaces. */
function isValidExpression(expression: string): boolean {
  if (expression.length === 0) return false;
  for (let i = 0; i < expression.length; i++) {
    const c = expression.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** Byte order of two valid expressions (the order of every payload). */
export const compareExpressions = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The snapshot line of `entry`, LF included. */
export function snapshotLine(entry: FeedEntry): string {
  const tail = `\t${entry.kind}\t${entry.category}\t${entry.action}`;
  if (!isValidExpression(entry.expression)) {
    throw new PlainPayloadError(`invalid expression "${entry.expression}"`);
  }
  if (
    !KINDS.includes(entry.kind) ||
    !CATEGORIES.includes(entry.category) ||
    !ACTIONS.includes(entry.action)
  ) {
    throw new PlainPayloadError(`invalid kind, category or action in "${entry.expression}${tail}"`);
  }
  return `${entry.expression}${tail}\n`;
}

/**
 * The snapshot payload of `entries`, which must come sorted by expression without duplicates (the hub
 * reads them that way; sorting millions here would only hide a bug).
 */
export function encodeSnapshot(entries: Iterable<FeedEntry>): Uint8Array {
  const chunks: Uint8Array[] = [];
  let text = '';
  let previous: string | undefined;
  for (const entry of entries) {
    if (previous !== undefined && compareExpressions(previous, entry.expression) >= 0) {
      throw new PlainPayloadError(
        `entries not sorted or duplicated: "${entry.expression}" after "${previous}"`,
      );
    }
    previous = entry.expression;
    text += snapshotLine(entry);
    // Encoding in slices keeps every string far below the engine's maximum string length.
    if (text.length >= 1 << 16) {
      chunks.push(encoder.encode(text));
      text = '';
    }
  }
  chunks.push(encoder.encode(text));
  return concatBytes(chunks);
}

/** The delta payload of `changes` (any order; at most a remove and an add per expression). */
export function encodeDelta(changes: readonly PlainChange[]): Uint8Array {
  const sorted = [...changes].sort(
    (a, b) =>
      compareExpressions(a.expression, b.expression) || (a.op === b.op ? 0 : a.op === 'remove' ? -1 : 1),
  );
  let text = '';
  for (let i = 0; i < sorted.length; i++) {
    const change = sorted[i] as PlainChange;
    const previous = sorted[i - 1];
    if (previous?.expression === change.expression && !(previous.op === 'remove' && change.op === 'add')) {
      throw new PlainPayloadError(`duplicate change for "${change.expression}"`);
    }
    if (change.op === 'add') text += `+\t${snapshotLine(change)}`;
    else if (isValidExpression(change.expression)) text += `-\t${change.expression}\n`;
    else throw new PlainPayloadError(`invalid expression "${change.expression}"`);
  }
  return encoder.encode(text);
}

/**
 * Validates a snapshot payload and returns the start offset of every line plus, last, the payload
 * length (so line i is `payload[starts[i], starts[i+1])`). Works on bytes: a large snapshot does not
 * fit in one JavaScript string. Plain loops over the bytes, no native search per line: an agent loads
 * millions of lines with it.
 */
export function indexSnapshot(payload: Uint8Array): Result<Uint32Array> {
  const length = payload.length;
  // Room for lines of 32 bytes on average, grown as needed: one pass over the bytes, no count first.
  let starts = new Uint32Array((length >>> 5) + 2);
  let start = 0;
  let previous = -1;
  let line = 0;
  for (; start < length; line++) {
    if (line + 1 >= starts.length) {
      const grown = new Uint32Array(Math.ceil(starts.length * 1.5) + 2);
      grown.set(starts);
      starts = grown;
    }
    // A valid line: printable bytes to a TAB, then a tail that ends with the LF. Anything else is
    // looked at again by `invalidLine`, which says what is wrong.
    let tab = start;
    while (tab < length && isExpressionByte(payload[tab] as number)) tab++;
    const end = tab > start && payload[tab] === TAB ? tailEnd(payload, tab) : -1;
    if (end < 0) return invalidLine(payload, start, line);
    if (previous >= 0 && compareAt(payload, previous, payload, start, tab) >= 0) {
      return badLine(line, 'expression not sorted after the previous line or duplicated');
    }
    starts[line] = start;
    previous = start;
    start = end + 1;
  }
  starts[line] = length;
  return ok(starts.length === line + 1 ? starts : starts.slice(0, line + 1));
}

/** The entry of the already validated snapshot line `payload[start, next)` (its LF at `next - 1`). */
export function entryAt(payload: Uint8Array, start: number, next: number): FeedEntry {
  const tab = payload.indexOf(TAB, start);
  const [kind, category, action] = tailAt(payload, tab, next - 1) as [EntryKind, Category, Action];
  return { expression: decoder.decode(payload.subarray(start, tab)), kind, category, action };
}

/** The changes of a delta payload, validated strictly (syntax, order, duplicates). */
export function decodeDelta(payload: Uint8Array): Result<PlainChange[]> {
  const changes: PlainChange[] = [];
  let start = 0;
  for (let line = 0; start < payload.length; line++) {
    const end = payload.indexOf(LF, start);
    if (end === -1) return badLine(line, 'last line does not end with LF');
    const op = payload[start];
    if ((op !== PLUS && op !== MINUS) || payload[start + 1] !== TAB)
      return badLine(line, 'expected "+" or "-" then TAB');
    const exprStart = start + 2;
    const exprEnd = expressionEnd(payload, exprStart, end);
    if (exprEnd === exprStart) return badLine(line, 'expression is empty or not printable ASCII');
    const expression = decoder.decode(payload.subarray(exprStart, exprEnd));
    let change: PlainChange;
    if (op === MINUS) {
      if (exprEnd !== end) return badLine(line, 'a "-" line holds only the expression');
      change = { op: 'remove', expression };
    } else {
      const fields = tailAt(payload, exprEnd, end);
      if (!fields) return badLine(line, 'expected TAB kind TAB category TAB action');
      change = { op: 'add', expression, kind: fields[0], category: fields[1], action: fields[2] };
    }
    const previous = changes.at(-1);
    if (previous) {
      const order = compareExpressions(previous.expression, expression);
      if (order > 0 || (order === 0 && !(previous.op === 'remove' && change.op === 'add'))) {
        return badLine(line, 'changes not sorted or duplicated');
      }
    }
    changes.push(change);
    start = end + 1;
  }
  return ok(changes);
}

/**
 * Compares the expression of the line at `a[aStart...]` (ended by TAB) with `b[bStart, bEnd)`.
 * Negative, zero or positive like a comparator.
 */
function compareAt(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, bEnd: number): number {
  for (let i = 0; ; i++) {
    const x = a[aStart + i] as number;
    const aDone = x === TAB;
    const bDone = bStart + i === bEnd;
    if (aDone || bDone) return aDone && bDone ? 0 : aDone ? -1 : 1;
    const y = b[bStart + i] as number;
    if (x !== y) return x - y;
  }
}

/**
 * Compares the expression of the line at `bytes[start...]` (ended by TAB) with `query`, code unit by
 * byte: no encoding, and a non-ASCII query simply matches no line.
 */
export function compareExpressionAt(bytes: Uint8Array, start: number, query: string): number {
  for (let i = 0; ; i++) {
    const x = bytes[start + i] as number;
    const lineDone = x === TAB;
    const queryDone = i === query.length;
    if (lineDone || queryDone) return lineDone && queryDone ? 0 : lineDone ? -1 : 1;
    const y = query.charCodeAt(i);
    if (x !== y) return x - y;
  }
}

/** Where the expression starting at `start` ends (at a TAB or at `end`); `start` when it is invalid. */
function expressionEnd(payload: Uint8Array, start: number, end: number): number {
  let i = start;
  for (; i < end; i++) {
    const c = payload[i] as number;
    if (c === TAB) break;
    if (c < 0x21 || c > 0x7e) return start;
  }
  return i;
}

/**
 * The kind, category and action of the tail `payload[tab, end)` of a line (TAB kind TAB category TAB
 * action, its LF at `end`), or undefined when it is not one. The same array is returned for the same
 * tail every time, so callers may key what they derive from it by identity.
 */
export function tailAt(
  payload: Uint8Array,
  tab: number,
  end: number,
): readonly [EntryKind, Category, Action] | undefined {
  const index = tailIndexAt(payload, tab);
  return index >= 0 && tab + (TAIL_BYTES[index] as Uint8Array).length === end
    ? TAIL_FIELDS[index]
    : undefined;
}

/** Whether `c` may be in an expression: printable ASCII, no space (as `isValidExpression`). */
const isExpressionByte = (c: number): boolean => (c - 0x21) >>> 0 <= 0x7e - 0x21;

/** The LF that ends the tail `payload[tab...]` (TAB kind TAB category TAB action LF), or -1. */
function tailEnd(payload: Uint8Array, tab: number): number {
  const index = tailIndexAt(payload, tab);
  const lf = index < 0 ? -1 : tab + (TAIL_BYTES[index] as Uint8Array).length;
  return payload[lf] === LF ? lf : -1;
}

/** Why the snapshot line at `start` is not one, as a `bad_payload` failure. */
function invalidLine<T>(payload: Uint8Array, start: number, line: number): Result<T> {
  // The expression runs to its TAB (or, without one, to the LF, and the tail check refuses the line).
  let tab = start;
  for (; tab < payload.length; tab++) {
    const c = payload[tab] as number;
    if (c === TAB || c === LF) break;
    if (!isExpressionByte(c)) {
      tab = start;
      break;
    }
  }
  let end = tab;
  while (end < payload.length && payload[end] !== LF) end++;
  // A last line without its LF is refused as such, whatever else is wrong with it.
  if (end === payload.length) return badLine(line, 'last line does not end with LF');
  if (tab === start) return badLine(line, 'expression is empty or not printable ASCII');
  return badLine(line, 'expected TAB kind TAB category TAB action');
}

function badLine<T>(line: number, message: string): Result<T> {
  return fail('bad_payload', `payload line ${line + 1}: ${message}`);
}
