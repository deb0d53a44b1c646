import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { classifyCanaryAnswer, classifyEntryAnswer, extendedErrors } from '../../src/probe/dns-verdict.ts';

// Verdicts on answers as resolvers send them on the wire (built with dns-packet, read back from bytes).

type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
const RCODES: Record<Rcode, number> = { NOERROR: 0, NXDOMAIN: 3, SERVFAIL: 2, REFUSED: 5 };

function answer(
  rcode: Rcode,
  answers: dnsPacket.Answer[] = [],
  ede?: { code: number; text: string },
  type: 'A' | 'TXT' = 'A',
): Buffer {
  const options = ede
    ? [
        {
          code: 15,
          data: Buffer.concat([Buffer.from([ede.code >> 8, ede.code & 0xff]), Buffer.from(ede.text)]),
        },
      ]
    : [];
  return dnsPacket.encode({
    type: 'response',
    id: 1,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | RCODES[rcode],
    questions: [{ type, name: 'evil.test', class: 'IN' }],
    answers,
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        // biome-ignore lint/suspicious/noExplicitAny: dns-packet encodes unknown options by code, its types do not say so
        options: options as any,
      },
    ],
  });
}

const a = (data: string): dnsPacket.Answer => ({ type: 'A', name: 'evil.test', ttl: 60, class: 'IN', data });
const none = new Set<string>();

describe('classifyEntryAnswer', () => {
  it('reads NXDOMAIN, NODATA and a walled-garden address as blocks, other addresses as no block', () => {
    expect(classifyEntryAnswer(answer('NXDOMAIN'), none)).toMatchObject({
      verdict: 'blocked',
      reason: 'nxdomain',
    });
    expect(classifyEntryAnswer(answer('NOERROR'), none)).toMatchObject({
      verdict: 'blocked',
      reason: 'nodata',
    });
    expect(classifyEntryAnswer(answer('NOERROR', [a('10.9.9.9')]), new Set(['10.9.9.9']))).toMatchObject({
      verdict: 'blocked',
      reason: 'walled-garden',
    });
    expect(classifyEntryAnswer(answer('NOERROR', [a('192.0.2.99')]), none)).toMatchObject({
      verdict: 'not-blocked',
      reason: 'answer',
    });
  });

  it('reads RFC 8914 Blocked, Censored and Filtered as blocks, even on SERVFAIL or REFUSED', () => {
    for (const code of [15, 16, 17]) {
      const message = answer(code === 15 ? 'NXDOMAIN' : code === 16 ? 'SERVFAIL' : 'REFUSED', [], {
        code,
        text: 'listed by the regulator',
      });
      expect(classifyEntryAnswer(message, none)).toMatchObject({ verdict: 'blocked', reason: `ede-${code}` });
    }
    const decoded = dnsPacket.decode(answer('REFUSED', [], { code: 17, text: 'filtered: order 5167' }));
    expect(extendedErrors(decoded)).toEqual([{ infoCode: 17, extraText: 'filtered: order 5167' }]);
  });

  it('calls SERVFAIL, REFUSED, other EDE codes and garbage inconclusive', () => {
    expect(classifyEntryAnswer(answer('SERVFAIL'), none)).toMatchObject({
      verdict: 'inconclusive',
      reason: 'servfail',
    });
    expect(classifyEntryAnswer(answer('REFUSED'), none)).toMatchObject({
      verdict: 'inconclusive',
      reason: 'refused',
    });
    // EDE 22 (No Reachable Authority) is a failure, not a policy.
    expect(classifyEntryAnswer(answer('SERVFAIL', [], { code: 22, text: '' }), none)).toMatchObject({
      verdict: 'inconclusive',
    });
    expect(classifyEntryAnswer(Buffer.from([1, 2, 3]), none)).toMatchObject({
      verdict: 'inconclusive',
      reason: 'malformed',
    });
  });
});

describe('classifyCanaryAnswer', () => {
  const txt = (data: string): dnsPacket.Answer => ({
    type: 'TXT',
    name: 'evil.test',
    ttl: 60,
    class: 'IN',
    data,
  });

  it('reads the version a canary TXT carries; NXDOMAIN or other text is no canary', () => {
    expect(classifyCanaryAnswer(answer('NOERROR', [txt('takedown-canary v=42')], undefined, 'TXT'))).toEqual({
      verdict: 'blocked',
      reason: 'canary',
      canaryVersion: 42,
    });
    expect(classifyCanaryAnswer(answer('NXDOMAIN', [], undefined, 'TXT'))).toMatchObject({
      verdict: 'not-blocked',
      reason: 'nxdomain',
      canaryVersion: null,
    });
    expect(classifyCanaryAnswer(answer('NOERROR', [txt('v=spf1 -all')], undefined, 'TXT'))).toMatchObject({
      verdict: 'not-blocked',
      reason: 'no-canary',
    });
    expect(classifyCanaryAnswer(answer('SERVFAIL', [], undefined, 'TXT'))).toMatchObject({
      verdict: 'inconclusive',
    });
  });
});
