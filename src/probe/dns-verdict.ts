import * as dnsPacket from 'dns-packet';
import { parseCanaryText } from '../core/canary.ts';
import type { Verdict } from '../core/probe-evidence.ts';

// What a resolver's answer says about an entry, or about the canary.

export interface DnsVerdict {
  verdict: Verdict;
  /** `nxdomain`, `nodata`, `walled-garden`, `ede-15`..`ede-17`, `answer`, `servfail`, `refused`, ... */
  reason: string;
  canaryVersion: number | null;
}

/** RFC 8914 EDE info codes that mean a policy stopped the answer: Blocked, Censored, Filtered. */
const BLOCKING_EDE_CODES: ReadonlySet<number> = new Set([15, 16, 17]);

/** EDNS option code of an Extended DNS Error (RFC 8914). */
const EDE_OPTION = 15;

export interface ExtendedError {
  infoCode: number;
  extraText: string;
}

/** dns-packet decodes `rcode` (as a name) and unknown EDNS options, but its types declare neither. */
type Decoded = ReturnType<typeof dnsPacket.decode> & { rcode?: string };
type RawOption = { code: number; data?: Buffer };

/** The Extended DNS Errors of a message: 2-byte INFO-CODE then UTF-8 EXTRA-TEXT, in the OPT record. */
export function extendedErrors(packet: Decoded): ExtendedError[] {
  const errors: ExtendedError[] = [];
  for (const record of packet.additionals ?? []) {
    if (record.type !== 'OPT') continue;
    for (const option of record.options as RawOption[]) {
      const data = option.data;
      if (option.code !== EDE_OPTION || !data || data.length < 2) continue;
      errors.push({ infoCode: data.readUInt16BE(0), extraText: data.subarray(2).toString('utf8') });
    }
  }
  return errors;
}

function decode(message: Buffer): Decoded | undefined {
  try {
    return dnsPacket.decode(message) as Decoded;
  } catch {
    return undefined;
  }
}

const inconclusive = (reason: string): DnsVerdict => ({
  verdict: 'inconclusive',
  reason,
  canaryVersion: null,
});
const blocked = (reason: string): DnsVerdict => ({ verdict: 'blocked', reason, canaryVersion: null });

/** The reason of a blocking EDE, or of an rcode that tells nothing (SERVFAIL, REFUSED, ...). */
function policyOrFailure(packet: Decoded): DnsVerdict | undefined {
  const ede = extendedErrors(packet).find((error) => BLOCKING_EDE_CODES.has(error.infoCode));
  if (ede) return blocked(`ede-${ede.infoCode}`);
  const rcode = (packet.rcode ?? 'NOERROR').toLowerCase();
  if (rcode === 'noerror' || rcode === 'nxdomain') return undefined;
  return inconclusive(rcode);
}

/**
 * An A/AAAA answer for a blocked name: blocked when the resolver says so (an RFC 8914 Blocked, Censored or
 * Filtered error, NXDOMAIN, NODATA, or an address of the walled garden), not blocked when it answers with
 * addresses, inconclusive when it fails (SERVFAIL, REFUSED) or the message does not parse.
 */
export function classifyEntryAnswer(message: Buffer, walledGarden: ReadonlySet<string>): DnsVerdict {
  const packet = decode(message);
  if (!packet) return inconclusive('malformed');
  const policy = policyOrFailure(packet);
  if (policy) return policy;
  if (packet.rcode === 'NXDOMAIN') return blocked('nxdomain');
  const addresses = (packet.answers ?? []).flatMap((a) =>
    a.type === 'A' || a.type === 'AAAA' ? [String(a.data)] : [],
  );
  if (addresses.some((address) => walledGarden.has(address))) return blocked('walled-garden');
  if (addresses.length === 0) return blocked('nodata');
  return { verdict: 'not-blocked', reason: 'answer', canaryVersion: null };
}

/**
 * A TXT answer for the canary: `blocked` (the resolver enforces the policy) with the version its answer
 * carries, `not-blocked` when it answers without a canary (NXDOMAIN, other data), inconclusive on failure.
 */
export function classifyCanaryAnswer(message: Buffer): DnsVerdict {
  const packet = decode(message);
  if (!packet) return inconclusive('malformed');
  const failed = policyOrFailure(packet);
  if (failed?.verdict === 'inconclusive') return failed;
  for (const answer of packet.answers ?? []) {
    if (answer.type !== 'TXT') continue;
    const strings = Array.isArray(answer.data) ? answer.data : [answer.data];
    const version = parseCanaryText(strings.map((s) => s.toString()).join(''));
    if (version !== undefined) return { verdict: 'blocked', reason: 'canary', canaryVersion: version };
  }
  return {
    verdict: 'not-blocked',
    reason: packet.rcode === 'NXDOMAIN' ? 'nxdomain' : 'no-canary',
    canaryVersion: null,
  };
}
