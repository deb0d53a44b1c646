import { tailAt } from '../core/plain-payload.ts';
import { dnsNameEnd } from './names.ts';
import type { LineRenderFunction, RenderOptions, RenderStats } from './options.ts';
import { endLine } from './render-lines.ts';
import { formatRecord, rpzHeader } from './rpz.ts';
import { fitsUnder, isSpecialTriggerAt, rpzRecords } from './rpz-records.ts';

// The RPZ zone file straight from a plain state's snapshot lines: the bytes `renderRpz` writes, without an
// entry object, a record object or a string per entry, so an agent renders ten million entries in seconds.
// What an entry's records say after its owner name depends only on its kind, category and action (no
// order references here), so it is rendered once per such tail by `rpzRecords` itself, for a stand-in
// name, and copied after each name.

const TAB = 0x09;
const SLASH = 0x2f;
/** `*.` before a wildcard owner. */
const STAR = [0x2a, 0x2e];
/** Bytes per yielded piece. */
const PIECE_BYTES = 256 * 1024;
/** Bytes `copyWords` may read or write past a run: a word less one. */
const WORD_SLACK = 3;
/** A name no entry's records depend on: only the text after it is kept. */
const STAND_IN = 'stand-in.invalid';

const encoder = new TextEncoder();

/** The text after an owner name in one record, padded to whole words for `copyWords`. */
interface Suffix {
  view: DataView;
  length: number;
}

/** The text after the owner name of each record of the name, and of its wildcard. */
interface Policy {
  name: readonly Suffix[];
  wildcard: readonly Suffix[];
  /** Every byte of both lists: with the owner names, an upper bound of what one entry writes. */
  bytes: number;
}

function suffixOf(text: string): Suffix {
  const bytes = encoder.encode(text);
  const padded = new Uint8Array(bytes.length + WORD_SLACK);
  padded.set(bytes);
  return { view: new DataView(padded.buffer), length: bytes.length };
}

/** The policy of a `domain` entry of these fields. */
function policyOf(fields: NonNullable<ReturnType<typeof tailAt>>, options: RenderOptions): Policy {
  const [kind, category, action] = fields;
  const records = rpzRecords({ expression: `${STAND_IN}/`, kind, category, action }, options);
  const after = (owner: string) =>
    records.filter((r) => r.name === owner).map((r) => suffixOf(formatRecord(r).slice(owner.length)));
  const name = after(STAND_IN);
  const wildcard = after(`*.${STAND_IN}`);
  let bytes = 0;
  for (const suffix of [...name, ...wildcard]) bytes += suffix.length;
  // `copyWords` may write up to three bytes past an entry.
  bytes += WORD_SLACK;
  return { name, wildcard, bytes };
}

/** The RPZ file of `renderRpz`, from snapshot lines (no order references: those need the entry path). */
export const renderRpzLines: LineRenderFunction = async function* (source, { version, options }) {
  yield rpzHeader(version, options);
  const writer = new RecordWriter(options);
  for (const { bytes, starts } of source.lineRuns()) {
    const lines = starts.length - 1;
    for (let line = writer.fill(bytes, starts, 0); line < lines; line = writer.fill(bytes, starts, line)) {
      yield writer.take();
    }
  }
  if (writer.used > 0) yield writer.take();
  yield endLine(';', writer.stats, version);
  return writer.stats;
};

/** Fills a buffer with the records of snapshot lines (a plain function, so the engine keeps it in registers). */
class RecordWriter {
  readonly stats: RenderStats = { rendered: 0, ignored: 0, skipped: 0 };
  used = 0;
  #buffer = new Uint8Array(PIECE_BYTES);
  #view = new DataView(this.#buffer.buffer);
  readonly #options: RenderOptions;
  /** By the tail's fields, which tailAt hands out as one array per tail. */
  readonly #policies = new Map<object, Policy>();

  constructor(options: RenderOptions) {
    this.#options = options;
  }

  /** What was written since the last take; valid until the next `fill`. */
  take(): Uint8Array {
    const piece = this.#buffer.subarray(0, this.used);
    this.used = 0;
    return piece;
  }

  /** Renders lines from `from` on until the buffer is full; returns the first line not rendered. */
  fill(bytes: Uint8Array, starts: Uint32Array, from: number): number {
    const zone = this.#options.zone;
    const stats = this.stats;
    const lines = starts.length - 1;
    let buffer = this.#buffer;
    let out = this.#view;
    // A name is followed by at least `/`, TAB and its tail, so reading a word past it stays in `bytes`.
    const source = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let used = this.used;
    let line = from;
    for (; line < lines; line++) {
      const start = starts[line] as number;
      const lf = (starts[line + 1] as number) - 1;
      // `name/`: a DNS name the zone can hold, and no trigger of another kind.
      const end = dnsNameEnd(bytes, start, lf);
      let tab = end + 1;
      const domainTail = end > start && bytes[end] === SLASH && bytes[tab] === TAB;
      if (!domainTail) {
        tab = start;
        while (bytes[tab] !== TAB) tab++;
      }
      const fields = tailAt(bytes, tab, lf);
      if (fields === undefined) throw new Error('snapshot line without a valid tail');
      if (fields[0] !== 'domain') {
        stats.ignored++;
        continue;
      }
      const length = end - start;
      if (!domainTail || !fitsUnder(length, zone) || isSpecialTriggerAt(bytes, start, end)) {
        stats.skipped++;
        continue;
      }
      let policy = this.#policies.get(fields);
      if (policy === undefined) {
        policy = policyOf(fields, this.#options);
        this.#policies.set(fields, policy);
      }
      const need = policy.bytes + (length + STAR.length) * (policy.name.length + policy.wildcard.length);
      if (used + need > buffer.length) {
        if (used > 0) break;
        buffer = new Uint8Array(need);
        out = new DataView(buffer.buffer);
        this.#buffer = buffer;
        this.#view = out;
      }
      stats.rendered++;
      for (const suffix of policy.name) {
        used = copyWords(out, used, source, start, end);
        used = copyWords(out, used, suffix.view, 0, suffix.length);
      }
      if (!fitsUnder(length + STAR.length, zone)) continue;
      for (const suffix of policy.wildcard) {
        buffer[used++] = STAR[0] as number;
        buffer[used++] = STAR[1] as number;
        used = copyWords(out, used, source, start, end);
        used = copyWords(out, used, suffix.view, 0, suffix.length);
      }
    }
    this.used = used;
    return line;
  }
}

/**
 * Writes `from[start, end)` at `at` a word at a time, reading and writing up to WORD_SLACK bytes past the
 * run (the next write covers them); returns where the next write goes. Runs are a few dozen bytes, for
 * which a typed-array copy costs more than it saves and a byte loop four times the steps.
 */
function copyWords(to: DataView, at: number, from: DataView, start: number, end: number): number {
  for (let i = start, j = at; i < end; i += 4, j += 4) to.setInt32(j, from.getInt32(i));
  return at + end - start;
}
