import type { FeedEntry } from '../core/types.ts';
import { addressRecordType, domainName, traceComment } from './names.ts';
import type { RefLookup, RenderOptions } from './options.ts';
import { zoneSerial } from './serial.ts';

// The one definition of the policy zone's content. The zone-file writer formats these records and
// the DNS primary serves them over AXFR/IXFR, so a resolver gets the same policy either way.

/** One resource record of the policy zone, in presentation form (class IN, the zone's TTL). */
export interface RpzRecord {
  /** Owner name relative to the zone origin (`@` is the apex), e.g. `evil.example`, `*.evil.example`. */
  name: string;
  type: 'SOA' | 'NS' | 'CNAME' | 'A' | 'AAAA' | 'TXT';
  /** RDATA in zone-file form; names are absolute (`.`, `walled.example.`). */
  data: string;
  /** `category reference(s)`, so any record can be traced to the order that holds it. */
  comment?: string;
}

/** SOA timers besides the serial: refresh and retry 60 s (NOTIFY may be lost), expire one week. */
const RPZ_SOA_TIMERS = { refresh: 60, retry: 60, expire: 604_800 } as const;

/** The zone apex: SOA (serial from the registry version, minimum = the zone TTL) and NS. */
export function rpzApexRecords(version: number | bigint, options: RenderOptions): RpzRecord[] {
  const { refresh, retry, expire } = RPZ_SOA_TIMERS;
  return [
    {
      name: '@',
      type: 'SOA',
      data: `${options.nameServer} ${options.hostmaster} ${zoneSerial(version)} ${refresh} ${retry} ${expire} ${options.ttl}`,
    },
    { name: '@', type: 'NS', data: options.nameServer },
  ];
}

/** Whether an owner name of `length` bytes fits under `zone` in a DNS name. */
export function fitsUnder(length: number, zone: string): boolean {
  // Absolute owner without its root dot: `owner` + `.` + zone minus its trailing dot.
  return length + zone.length <= 253;
}

const fits = (owner: string, zone: string) => fitsUnder(owner.length, zone);

// Owner names ending in these labels are RPZ triggers of another kind (IP, NS name, client IP).
const SPECIAL_TRIGGER = /(?:^|\.)rpz-[a-z-]*$/;

const RPZ_DASH = [0x72, 0x70, 0x7a, 0x2d];

/**
 * {@link SPECIAL_TRIGGER} on the ASCII bytes of a name, `bytes[start, end)`: its last label is `rpz-`
 * followed by letters and dashes only.
 */
export function isSpecialTriggerAt(bytes: Uint8Array, start: number, end: number): boolean {
  let label = end;
  while (label > start && bytes[label - 1] !== 0x2e) label--;
  if (end - label < RPZ_DASH.length) return false;
  for (let i = 0; i < RPZ_DASH.length; i++) if (bytes[label + i] !== RPZ_DASH[i]) return false;
  for (let i = label + RPZ_DASH.length; i < end; i++) {
    const c = bytes[i] as number;
    if (!((c >= 0x61 && c <= 0x7a) || c === 0x2d)) return false;
  }
  return true;
}

type PolicyData = Readonly<Pick<RpzRecord, 'type' | 'data'>>;

// `CNAME .` is the RPZ action for NXDOMAIN.
const BLOCK: readonly PolicyData[] = [{ type: 'CNAME', data: '.' }];

function policyData(entry: FeedEntry, options: RenderOptions): readonly PolicyData[] {
  if (entry.action === 'redirect') {
    if (options.walledGardenHost) return [{ type: 'CNAME', data: options.walledGardenHost }];
    if (options.walledGardenAddresses.length > 0) {
      return options.walledGardenAddresses.map((address) => ({
        type: addressRecordType(address),
        data: address,
      }));
    }
  }
  return BLOCK;
}

/** The owner names (relative to the origin) and the data of one entry's policy records. */
export interface RpzPolicy {
  name: string;
  /** `*.name`, unless it would be too long for the zone. */
  wildcard: string | undefined;
  data: readonly PolicyData[];
}

/**
 * What `rpzRecords` makes of an entry, without the records themselves (the DNS primary encodes
 * millions of them): undefined when the entry has no policy records.
 */
export function rpzPolicy(entry: FeedEntry, options: RenderOptions): RpzPolicy | undefined {
  if (entry.kind !== 'domain') return undefined;
  const name = domainName(entry.expression);
  if (name === undefined || !fits(name, options.zone) || SPECIAL_TRIGGER.test(name)) return undefined;
  // A name too long for a wildcard under the origin has no sub-domain the zone could name anyway.
  const wildcard = `*.${name}`;
  return {
    name,
    wildcard: fits(wildcard, options.zone) ? wildcard : undefined,
    data: policyData(entry, options),
  };
}

/**
 * The policy records of one entry: for a `domain` entry the name and `*.name` (its sub-domains),
 * each with `CNAME .` (block = NXDOMAIN) or, for `redirect`, a CNAME to the walled-garden host or
 * its A/AAAA addresses (block when neither is configured). Empty for `url` entries (DNS never
 * blocks a host for one of its pages) and for names the zone cannot hold (too long under the
 * origin, an IP literal, a name that would read as an RPZ IP or NS trigger).
 */
export function rpzRecords(entry: FeedEntry, options: RenderOptions, refs?: RefLookup): RpzRecord[] {
  const policy = rpzPolicy(entry, options);
  if (policy === undefined) return [];
  const { name, wildcard, data } = policy;
  const comment = traceComment(entry, refs);
  const records: RpzRecord[] = data.map(({ type, data }) => ({ name, type, data, comment }));
  if (wildcard !== undefined) {
    for (const { type, data: value } of data) records.push({ name: wildcard, type, data: value, comment });
  }
  return records;
}
