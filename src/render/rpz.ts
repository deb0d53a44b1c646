import { canaryRecords } from '../core/canary.ts';
import type { RenderFunction, RenderOptions } from './options.ts';
import { endLine, renderLines } from './render-lines.ts';
import { type RpzRecord, rpzApexRecords, rpzRecords } from './rpz-records.ts';

/** One record as a zone-file line. */
export function formatRecord(record: RpzRecord): string {
  const line = `${record.name} ${record.type} ${record.data}`;
  return record.comment ? `${line} ; ${record.comment}\n` : `${line}\n`;
}

/**
 * An RPZ policy zone file (BIND 9, Unbound, PowerDNS Recursor, Knot Resolver): `$ORIGIN`, `$TTL`,
 * the SOA whose serial is the registry version modulo 2^32 (RFC 1982), NS, then the records of
 * `rpzRecords` for every domain entry, each carrying its category and order reference(s).
 */
export const renderRpz: RenderFunction = (entries, { version, options, refs }) =>
  renderLines(entries, {
    kind: 'domain',
    header: rpzHeader(version, options),
    line(entry) {
      const records = rpzRecords(entry, options, refs);
      if (records.length === 0) return undefined;
      let text = '';
      for (const record of records) text += formatRecord(record);
      return text;
    },
    footer: (stats) => endLine(';', stats, version),
  });

/** Everything before the first entry: comments, `$ORIGIN`, `$TTL`, SOA, NS and the canary. */
export function rpzHeader(version: number | bigint, options: RenderOptions): string {
  const apex = rpzApexRecords(version, options)
    .map((record) => `@ IN ${record.type} ${record.data}\n`)
    .join('');
  return (
    `; takedown response policy zone ${options.zone} at registry version ${version}\n` +
    '; SOA serial = registry version mod 2^32 (RFC 1982 serial arithmetic). Generated: edits are lost.\n' +
    '; name CNAME . = NXDOMAIN for the name; *.name = its sub-domains. Comments: category order-reference(s).\n' +
    `$ORIGIN ${options.zone}\n$TTL ${options.ttl}\n${apex}${canaryRecords(version).map(formatRecord).join('')}`
  );
}
