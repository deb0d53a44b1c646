import type { Answer } from 'dns-packet';
import { canaryRecords } from '../core/canary.ts';
import type { FeedEntry } from '../core/types.ts';
import type { EntrySource, RenderOptions } from '../render/options.ts';
import { rpzPolicy } from '../render/rpz-records.ts';
import type { ZoneDiff } from './journal.ts';
import { MessagePacker, type ResponseHead } from './message-packer.ts';
import { apexAnswers, PolicyBodies, soaAt, toAnswer } from './zone-records.ts';

// The messages of a zone transfer, produced lazily: the caller writes each one before the next is
// built, so a zone of millions of records never sits in memory as a whole.

/** Counts of what a transfer sent, for the log. */
export interface TransferStats {
  records: number;
  messages: number;
}

const BATCH = 1024;

/** The entries in arrays: a synchronous source then costs one await per batch, not one per entry. */
async function* batches(entries: EntrySource): AsyncGenerator<FeedEntry[]> {
  let batch: FeedEntry[] = [];
  if (Symbol.iterator in entries) {
    for (const entry of entries) {
      batch.push(entry);
      if (batch.length === BATCH) {
        yield batch;
        batch = [];
      }
    }
  } else {
    for await (const entry of entries) {
      batch.push(entry);
      if (batch.length === BATCH) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * AXFR (RFC 5936): SOA, NS, every entry's policy records in the source's order, SOA again. Also
 * the body of an IXFR answered in AXFR style (RFC 1995 section 4).
 */
export async function* axfrMessages(
  head: ResponseHead,
  version: number,
  entries: EntrySource,
  options: RenderOptions,
): AsyncGenerator<Buffer, TransferStats, undefined> {
  const packer = new MessagePacker(head);
  const { soa, ns } = apexAnswers(version, options);
  let records = 3;
  packer.add(soa);
  packer.add(ns);
  for (const record of canaryRecords(version)) {
    const full = packer.add(toAnswer(record, options));
    records++;
    if (full) yield full;
  }
  const bodies = new PolicyBodies(options);
  for await (const batch of batches(entries)) {
    for (const entry of batch) {
      const policy = rpzPolicy(entry, options);
      if (policy === undefined) continue;
      // The records of `rpzRecords`, in its order (the name's, then the wildcard's), never built.
      for (let owner: string | undefined = policy.name; owner !== undefined; ) {
        for (const { type, data } of policy.data) {
          const full = packer.addEncoded(owner, bodies.of(type, data));
          records++;
          if (full) yield full;
        }
        owner = owner === policy.name ? policy.wildcard : undefined;
      }
    }
  }
  const last = packer.add(soa);
  if (last) yield last;
  yield packer.finish();
  return { records, messages: packer.messages };
}

/**
 * An incremental transfer (RFC 1995 section 4) of one condensed difference: the SOA it leads to, the
 * client's SOA, deleted records, the SOA it leads to, added records, that SOA again. It may end at a
 * piece of a large version rather than at the current version (src/dns/journal.ts).
 */
export function* ixfrMessages(
  head: ResponseHead,
  diff: ZoneDiff,
  options: RenderOptions,
): Generator<Buffer, TransferStats, undefined> {
  const packer = new MessagePacker(head);
  const target = soaAt(diff.toSerial, options);
  // The canary changes with every version (src/core/canary.ts); the journal holds only entries' records.
  const canaryMoves = diff.fromVersion !== diff.toVersion;
  function* answers(): Generator<Answer> {
    yield target;
    yield soaAt(diff.fromSerial, options);
    for (const record of diff.deleted) yield toAnswer(record, options);
    if (canaryMoves) for (const record of canaryRecords(diff.fromVersion)) yield toAnswer(record, options);
    yield target;
    for (const record of diff.added) yield toAnswer(record, options);
    if (canaryMoves) for (const record of canaryRecords(diff.toVersion)) yield toAnswer(record, options);
    yield target;
  }
  let records = 0;
  for (const answer of answers()) {
    const full = packer.add(answer);
    records++;
    if (full) yield full;
  }
  yield packer.finish();
  return { records, messages: packer.messages };
}

/** A single-message answer holding only the current SOA: "you are up to date" or "ask over TCP". */
export function soaOnlyMessage(head: ResponseHead, version: number, options: RenderOptions): Buffer {
  const packer = new MessagePacker(head);
  packer.add(apexAnswers(version, options).soa);
  return packer.finish();
}
