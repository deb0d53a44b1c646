import type { Answer, SoaAnswer } from 'dns-packet';
import type { RenderOptions } from '../render/options.ts';
import { type RpzRecord, rpzApexRecords } from '../render/rpz-records.ts';
import { recordBody } from './record-body.ts';

// The policy zone's records (the same ones the zone-file renderer writes) as dns-packet answers.

/** The absolute owner name of a record (`@` is the origin), without the trailing dot dns-packet omits. */
function ownerName(record: RpzRecord, options: RenderOptions): string {
  const zone = options.zone.slice(0, -1);
  return record.name === '@' ? zone : `${record.name}.${zone}`;
}

function soaData(data: string): SoaAnswer['data'] {
  const [mname = '', rname = '', serial, refresh, retry, expire, minimum] = data.split(' ');
  return {
    mname,
    rname,
    serial: Number(serial),
    refresh: Number(refresh),
    retry: Number(retry),
    expire: Number(expire),
    minimum: Number(minimum),
  };
}

/** One record as a dns-packet answer, class IN with the zone's TTL. */
export function toAnswer(record: RpzRecord, options: RenderOptions): Answer {
  const name = ownerName(record, options);
  if (record.type === 'SOA')
    return { name, type: 'SOA', class: 'IN', ttl: options.ttl, data: soaData(record.data) };
  // A TXT record's zone-file data is one quoted string without escapes (the canary's).
  if (record.type === 'TXT')
    return { name, type: 'TXT', class: 'IN', ttl: options.ttl, data: record.data.slice(1, -1) };
  return { name, type: record.type, class: 'IN', ttl: options.ttl, data: record.data };
}

/** SOA and NS of the zone at registry `version`. */
export function apexAnswers(version: number, options: RenderOptions): { soa: Answer; ns: Answer } {
  const [soa, ns] = rpzApexRecords(version, options).map((record) => toAnswer(record, options));
  if (!soa || !ns) throw new Error('rpzApexRecords returned no SOA/NS');
  return { soa, ns };
}

/** The zone's SOA with serial `serial`: the version a transfer piece leads to or starts from. */
export function soaAt(serial: number, options: RenderOptions): Answer {
  const { soa } = apexAnswers(0, options);
  return soa.type === 'SOA' ? { ...soa, data: { ...soa.data, serial } } : soa;
}

/** Identity of a record for journal arithmetic: owner, type and data (the comment does not count). */
export function recordKey(record: RpzRecord): string {
  return `${record.name} ${record.type} ${record.data}`;
}

/**
 * Wire bodies (`recordBody`) of policy data, each encoded once: a million entries share a handful
 * of distinct bodies (`CNAME .` above all).
 */
export class PolicyBodies {
  readonly #byType = new Map<RpzRecord['type'], Map<string, Uint8Array>>();

  constructor(private readonly options: RenderOptions) {}

  of(type: RpzRecord['type'], data: string): Uint8Array {
    let byData = this.#byType.get(type);
    if (byData === undefined) {
      byData = new Map();
      this.#byType.set(type, byData);
    }
    let body = byData.get(data);
    if (body === undefined) {
      body = recordBody(toAnswer({ name: '@', type, data }, this.options));
      byData.set(data, body);
    }
    return body;
  }
}
