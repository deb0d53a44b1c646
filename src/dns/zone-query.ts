import type { Answer } from 'dns-packet';
import type { FeedEntry } from '../core/types.ts';
import type { EntrySource, RenderOptions } from '../render/options.ts';
import { rpzRecords } from '../render/rpz-records.ts';
import { RCODE } from './dns-codes.ts';
import { apexAnswers, toAnswer } from './zone-records.ts';

// Ordinary queries for names inside the policy zone, answered from the current records: the apex
// SOA/NS, a policy name (`evil.example`, `*.evil.example`), and names below a policy name through
// its wildcard record, as an authoritative server would (RFC 4592).

/** Finds the entry holding a `domain` expression (`name/`), e.g. from the agent's state index. */
export type EntryLookup = (expression: string) => FeedEntry | undefined | Promise<FeedEntry | undefined>;

export interface QueryAnswer {
  rcode: number;
  answers: Answer[];
  authorities: Answer[];
}

/** Every name from `owner` up to (not including) the origin: `a.b.c`, `b.c`, `c`. */
function selfAndAncestors(owner: string): string[] {
  const names = [owner];
  for (let dot = owner.indexOf('.'); dot !== -1; dot = owner.indexOf('.', dot + 1))
    names.push(owner.slice(dot + 1));
  return names;
}

/**
 * The entries of `expressions` that exist: through `lookup` when the source has an index, else by
 * one pass over the entries (fine for small zones; a large source should offer a lookup).
 */
async function findEntries(
  expressions: string[],
  entries: () => EntrySource,
  lookup?: EntryLookup,
): Promise<Map<string, FeedEntry>> {
  const found = new Map<string, FeedEntry>();
  if (lookup) {
    for (const expression of expressions) {
      const entry = await lookup(expression);
      if (entry) found.set(expression, entry);
    }
    return found;
  }
  const wanted = new Set(expressions);
  for await (const entry of entries()) {
    if (entry.kind === 'domain' && wanted.has(entry.expression)) found.set(entry.expression, entry);
    if (found.size === wanted.size) break;
  }
  return found;
}

/**
 * Answers `type` for `name` (lower case, absolute without the trailing dot, inside the zone):
 * answers at the name (a CNAME answers every type), NODATA or NXDOMAIN with the SOA as authority.
 */
export async function answerQuery(
  name: string,
  type: string,
  version: number,
  options: RenderOptions,
  entries: () => EntrySource,
  lookup?: EntryLookup,
): Promise<QueryAnswer> {
  const { soa, ns } = apexAnswers(version, options);
  const zone = options.zone.slice(0, -1);
  const negative = (rcode: number): QueryAnswer => ({ rcode, answers: [], authorities: [soa] });
  if (name === zone) {
    const answers = [soa, ns].filter((answer) => type === 'ANY' || answer.type === type);
    return answers.length > 0 ? { rcode: RCODE.NOERROR, answers, authorities: [] } : negative(RCODE.NOERROR);
  }
  const owner = name.slice(0, -(zone.length + 1));
  const candidates = selfAndAncestors(owner);
  const found = await findEntries(
    candidates.map((candidate) => `${candidate}/`),
    entries,
    lookup,
  );
  // The closest existing name decides: the name itself, else the nearest ancestor's wildcard.
  const closest = candidates.find((candidate) => found.has(`${candidate}/`));
  if (closest === undefined) return negative(RCODE.NXDOMAIN);
  const recordName = closest === owner ? owner : `*.${closest}`;
  const records = rpzRecords(found.get(`${closest}/`) as FeedEntry, options).filter(
    (record) => record.name === recordName,
  );
  if (records.length === 0) return negative(RCODE.NXDOMAIN);
  const cname = records.filter((record) => record.type === 'CNAME');
  const matching =
    cname.length > 0 ? cname : records.filter((record) => type === 'ANY' || record.type === type);
  if (matching.length === 0) return negative(RCODE.NOERROR);
  return {
    rcode: RCODE.NOERROR,
    answers: matching.map((record) => ({ ...toAnswer(record, options), name })),
    authorities: [],
  };
}
