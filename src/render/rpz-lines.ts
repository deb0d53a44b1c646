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
const STAR_DOT = [0x2a, 0x2e];
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

function policyOf(
  fields: NonNullable<ReturnType<typeof tailAt>>,
  options: RenderOptions,
): Policy | undefined {
  const [kind, category, action] = fields;
  const records = rpzRecords({ expression: `${STAND_IN}/`, kind, category, action }, options);
  if (records.length === 0) return undefined;
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
  const stats: RenderStats = { rendered: 0, ignored: 0, skipped: 0 };
  yield rpzHeader(version, options);
  const zone = options.zone;
  // By the tail's fields, which tailAt hands out as one array per tail.
  const policies = new Map<object, Policy | undefined>();
  let buffer = new Uint8Array(PIECE_BYTES);
  let used = 0;
  for (const { bytes, starts } of source.lineRuns()) {
    const lines = starts.length - 1;
    for (let line = 0; line < lines; line++) {
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
      let policy = policies.get(fields);
      if (!policies.has(fields)) {
        policy = policyOf(fields, options);
        policies.set(fields, policy);
      }
      if (policy === undefined) {
        stats.skipped++;
        continue;
      }
      stats.rendered++;
      const length = end - start;
      const wildcard = fitsUnder(length + STAR_DOT.length, zone);
      const need = policy.bytes + (length + STAR_DOT.length) * (policy.name.length + policy.wildcard.length);
      if (used + need > buffer.length) {
        if (used > 0) yield buffer.subarray(0, used);
        used = 0;
        if (need > buffer.length) buffer = new Uint8Array(need);
      }
      for (const suffix of policy.name) used = put(buffer, used, bytes, start, end, suffix);
      if (!wildcard) continue;
      for (const suffix of policy.wildcard) {
        buffer[used++] = STAR_DOT[0] as number;
        buffer[used++] = STAR_DOT[1] as number;
        used = put(buffer, used, bytes, start, end, suffix);
      }
    }
  }
  if (used > 0) yield buffer.subarray(0, used);
  yield endLine(';', stats, version);
  return stats;
};

/** Writes `bytes[start, end)` then `suffix` at `at`; returns where the next write goes. */
function put(
  buffer: Uint8Array,
  at: number,
  bytes: Uint8Array,
  start: number,
  end: number,
  suffix: Uint8Array,
): number {
  for (let i = start; i < end; i++) buffer[at++] = bytes[i] as number;
  buffer.set(suffix, at);
  return at + suffix.length;
}
