import { tailAt } from '../core/plain-payload.ts';
import { isDnsNameAt } from './names.ts';
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
/** A name no entry's records depend on: only the text after it is kept. */
const STAND_IN = 'stand-in.invalid';

const encoder = new TextEncoder();

/** The text after the owner name of each record of the name, and of its wildcard. */
interface Policy {
  name: readonly Uint8Array[];
  wildcard: readonly Uint8Array[];
  /** Every byte of both lists: with the owner names, an upper bound of what one entry writes. */
  bytes: number;
}

/** The policy of a `domain` entry of these fields. */
function policyOf(fields: NonNullable<ReturnType<typeof tailAt>>, options: RenderOptions): Policy {
  const [kind, category, action] = fields;
  const records = rpzRecords({ expression: `${STAND_IN}/`, kind, category, action }, options);
  const after = (owner: string) =>
    records.filter((r) => r.name === owner).map((r) => encoder.encode(formatRecord(r).slice(owner.length)));
  const name = after(STAND_IN);
  const wildcard = after(`*.${STAND_IN}`);
  let bytes = 0;
  for (const suffix of [...name, ...wildcard]) bytes += suffix.length;
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
    let used = this.used;
    let line = from;
    for (; line < lines; line++) {
      const start = starts[line] as number;
      let tab = start;
      while (bytes[tab] !== TAB) tab++;
      const fields = tailAt(bytes, tab, (starts[line + 1] as number) - 1);
      if (fields === undefined) throw new Error('snapshot line without a valid tail');
      if (fields[0] !== 'domain') {
        stats.ignored++;
        continue;
      }
      // `name/`: a DNS name the zone can hold, and no trigger of another kind.
      const end = tab - 1;
      if (
        bytes[end] !== SLASH ||
        !isDnsNameAt(bytes, start, end) ||
        !fitsUnder(end - start, zone) ||
        isSpecialTriggerAt(bytes, start, end)
      ) {
        stats.skipped++;
        continue;
      }
      let policy = this.#policies.get(fields);
      if (policy === undefined) {
        policy = policyOf(fields, this.#options);
        this.#policies.set(fields, policy);
      }
      const length = end - start;
      const need = policy.bytes + (length + STAR.length) * (policy.name.length + policy.wildcard.length);
      if (used + need > buffer.length) {
        if (used > 0) break;
        buffer = new Uint8Array(need);
        this.#buffer = buffer;
      }
      stats.rendered++;
      for (const suffix of policy.name) used = put(buffer, used, bytes, start, end, suffix);
      if (!fitsUnder(length + STAR.length, zone)) continue;
      for (const suffix of policy.wildcard) {
        buffer[used++] = STAR[0] as number;
        buffer[used++] = STAR[1] as number;
        used = put(buffer, used, bytes, start, end, suffix);
      }
    }
    this.used = used;
    return line;
  }
}

/** Writes `bytes[start, end)` then `suffix` at `at`; returns where the next write goes. */
function put(
  buffer: Uint8Array,
  at: number,
  bytes: Uint8Array,
  start: number,
  end: number,
  suffix: Uint8Array,
): number {
  // Byte loops: these runs are a few dozen bytes, for which a typed-array copy costs more than it saves.
  for (let i = start; i < end; i++) buffer[at++] = bytes[i] as number;
  for (let i = 0; i < suffix.length; i++) buffer[at++] = suffix[i] as number;
  return at;
}
