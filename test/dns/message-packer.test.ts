import type { Answer } from 'dns-packet';
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { MAX_TCP_MESSAGE, MessagePacker } from '../../src/dns/message-packer.ts';

describe('MessagePacker', () => {
  it('splits answers into messages under the TCP limit, in order, the question in the first only', () => {
    const head = {
      id: 99,
      flags: 0x8400,
      question: { name: 'rpz.takedown', type: 'AXFR' as const, class: 'IN' as const },
    };
    const packer = new MessagePacker(head);
    const names = Array.from(
      { length: 5_000 },
      (_, i) => `${'x'.repeat(60)}.${i}.${'y'.repeat(60)}.rpz.takedown`,
    );
    const messages: Buffer[] = [];
    for (const name of names) {
      const full = packer.add({ name, type: 'CNAME', class: 'IN', ttl: 60, data: '.' } as Answer);
      if (full) messages.push(Buffer.from(full));
    }
    messages.push(packer.finish());
    expect(messages.length).toBeGreaterThan(5);
    expect(packer.messages).toBe(messages.length);
    const decoded = messages.map((message) => dnsPacket.decode(message));
    expect(messages.every((message) => message.length <= MAX_TCP_MESSAGE - 512)).toBe(true);
    expect(decoded.map((message) => message.questions?.length)).toEqual([
      1,
      ...Array(messages.length - 1).fill(0),
    ]);
    expect(decoded.every((message) => message.id === 99 && message.flag_aa)).toBe(true);
    expect(decoded.flatMap((message) => message.answers?.map((answer) => answer.name))).toEqual(names);
  });
});
