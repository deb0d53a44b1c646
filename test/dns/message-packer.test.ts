import type { Answer } from 'dns-packet';
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { canaryRecords } from '../../src/core/canary.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import {
  MAX_TCP_MESSAGE,
  MessagePacker,
  type ResponseHead,
  TRANSFER_MESSAGE_LIMIT,
  TSIG_ROOM,
} from '../../src/dns/message-packer.ts';
import { NameEncodingError, POINTER_WINDOW } from '../../src/dns/name-compression.ts';
import { resolveTsigKeys, TsigSigner } from '../../src/dns/tsig.ts';
import { apexAnswers, toAnswer } from '../../src/dns/zone-records.ts';
import { axfrMessages } from '../../src/dns/zone-transfer.ts';
import { resolveRenderOptions } from '../../src/render/options.ts';
import { rpzRecords } from '../../src/render/rpz-records.ts';
import { domainEntry, sampleEntries, sortEntries } from './dns-tools.ts';

const head = (name = 'rpz.takedown'): ResponseHead => ({
  id: 99,
  flags: 0x8400,
  question: { name, type: 'AXFR', class: 'IN' },
});
const cname = (name: string): Answer => ({ name, type: 'CNAME', class: 'IN', ttl: 60, data: '.' });

/** Types whose RDATA is one domain name (RFC 1035 section 3.3), so it may hold pointers too. */
const NAME_DATA = new Set([2, 5, 12, 39]);
const SOA = 6;

/**
 * Walks every name of `message` (question, owners, names in RDATA) and checks each compression
 * pointer: it must point backwards, to the length byte of a label some earlier name wrote out.
 * Returns how many pointers there were.
 */
function checkPointers(message: Uint8Array): number {
  const view = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const labelStarts = new Set<number>();
  let pointers = 0;
  const name = (start: number): number => {
    let at = start;
    for (;;) {
      const length = view[at] as number;
      if (length === 0) return at + 1;
      if ((length & 0xc0) === 0xc0) {
        const target = view.readUInt16BE(at) & 0x3fff;
        if (!(target < at && labelStarts.has(target)))
          throw new Error(`pointer at ${at} to ${target} is not an earlier label`);
        pointers++;
        return at + 2;
      }
      expect(length).toBeLessThanOrEqual(63);
      labelStarts.add(at);
      at += 1 + length;
    }
  };
  let offset = 12;
  for (let q = view.readUInt16BE(4); q > 0; q--) offset = name(offset) + 4;
  const records = view.readUInt16BE(6) + view.readUInt16BE(8) + view.readUInt16BE(10);
  for (let r = 0; r < records; r++) {
    offset = name(offset);
    const type = view.readUInt16BE(offset);
    const length = view.readUInt16BE(offset + 8);
    const data = offset + 10;
    if (NAME_DATA.has(type)) expect(name(data)).toBe(data + length);
    if (type === SOA) expect(name(name(data)) + 20).toBe(data + length);
    offset = data + length;
  }
  expect(offset).toBe(view.length);
  return pointers;
}

async function collect(generator: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const messages: Buffer[] = [];
  for await (const message of generator) messages.push(Buffer.from(message));
  return messages;
}

const answersOf = (messages: Buffer[]) => messages.flatMap((m) => dnsPacket.decode(m).answers ?? []);
const brief = (answer: Answer) => JSON.stringify(answer);

describe('MessagePacker', () => {
  it('splits answers into messages under the limit, in order, the question in the first only', () => {
    const packer = new MessagePacker(head());
    const names = Array.from(
      { length: 5_000 },
      (_, i) => `${'x'.repeat(60)}.${i}.${'y'.repeat(60)}.rpz.takedown`,
    );
    const messages: Buffer[] = [];
    for (const name of names) {
      const full = packer.add(cname(name));
      if (full) messages.push(Buffer.from(full));
    }
    messages.push(packer.finish());
    expect(messages.length).toBeGreaterThan(5);
    expect(packer.messages).toBe(messages.length);
    const decoded = messages.map((message) => dnsPacket.decode(message));
    expect(messages.every((message) => message.length <= TRANSFER_MESSAGE_LIMIT)).toBe(true);
    expect(decoded.map((message) => message.questions?.length)).toEqual([
      1,
      ...Array(messages.length - 1).fill(0),
    ]);
    expect(decoded.every((message) => message.id === 99 && message.flag_aa)).toBe(true);
    expect(decoded.flatMap((message) => message.answers?.map((answer) => answer.name))).toEqual(names);
  });

  it('compresses an AXFR: every pointer leads back to a label, and dns-packet decodes the records of the zone', async () => {
    const options = resolveRenderOptions({ walledGardenAddresses: ['192.0.2.1', '2001:db8::1'] });
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}`;
    const entries: FeedEntry[] = sortEntries([
      ...sampleEntries(),
      domainEntry('casino.test', 'redirect'),
      // The longest name the zone can hold (240 + `.rpz.takedown.` = 255 bytes on the wire), and its siblings.
      domainEntry(`${'d'.repeat(48)}.${long}`),
      domainEntry(`${'e'.repeat(47)}.${long}`),
      domainEntry(`${'f'.repeat(46)}.${long}`),
      domainEntry(`x.${long}`),
      ...Array.from({ length: 3_000 }, (_, i) => domainEntry(`host-${i}.sub.example-with-a-long-name.test`)),
    ]);
    const version = 7;
    const messages = await collect(axfrMessages(head(), version, entries, options));
    expect(messages.length).toBeGreaterThan(3);
    const pointers = messages.map(checkPointers);
    expect(pointers.every((count) => count > 0)).toBe(true);

    const { soa, ns } = apexAnswers(version, options);
    const expected = [
      soa,
      ns,
      ...canaryRecords(version).map((record) => toAnswer(record, options)),
      ...entries.flatMap((entry) => rpzRecords(entry, options)).map((record) => toAnswer(record, options)),
      soa,
    ];
    // The same records as dns-packet's own (uncompressed) encoding of them decodes to.
    const plain = dnsPacket.decode(dnsPacket.encode({ type: 'response', answers: expected })).answers ?? [];
    expect(answersOf(messages).map(brief)).toEqual(plain.map(brief));
    expect(answersOf(messages).some((answer) => answer.name.length === 253)).toBe(true);
  });

  it('writes a wildcard owner as its `*` label and a pointer to the name just before it', async () => {
    const options = resolveRenderOptions();
    const entries = [domainEntry('evil.example')];
    const [message] = await collect(axfrMessages(head(), 1, entries, options));
    const bytes = message as Buffer;
    const at = bytes.lastIndexOf(Buffer.from([1, 0x2a]));
    const pointer = bytes.readUInt16BE(at + 2);
    expect(pointer & 0xc000).toBe(0xc000);
    expect(bytes.subarray((pointer & 0x3fff) + 1, (pointer & 0x3fff) + 5).toString()).toBe('evil');
    // Then CNAME, IN, the TTL, RDLENGTH 1 and the root: 15 bytes for the whole record.
    expect([bytes.readUInt16BE(at + 4), bytes.readUInt16BE(at + 12), bytes[at + 14]]).toEqual([5, 1, 0]);
    expect(dnsPacket.decode(bytes).answers?.at(-2)?.name).toBe('*.evil.example.rpz.takedown');
  });

  it('keeps the case of every name: a pointer only stands for the same bytes', () => {
    const packer = new MessagePacker(head('RPZ.Takedown'));
    const names = ['Evil.Example.rpz.takedown', 'evil.example.rpz.takedown', 'www.Evil.Example.rpz.takedown'];
    for (const name of names) packer.add(cname(name));
    const message = packer.finish();
    checkPointers(message);
    const decoded = dnsPacket.decode(message);
    expect(decoded.questions?.[0]?.name).toBe('RPZ.Takedown');
    expect(decoded.answers?.map((answer) => answer.name)).toEqual(names);
  });

  it('takes 63-byte labels and 255-byte names, refuses longer ones or names outside the zone, and stays intact', () => {
    const packer = new MessagePacker(head());
    const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(48)}.rpz.takedown`;
    expect(longest.length).toBe(253);
    packer.add(cname(longest));
    packer.add(cname(`*.${longest.slice(2)}`));
    expect(() => packer.add(cname(`e${longest}`))).toThrow(NameEncodingError);
    expect(() => packer.add(cname(`${longest.slice(0, 192)}${'d'.repeat(49)}.rpz.takedown`))).toThrow(
      /longer than 255 bytes/,
    );
    expect(() => packer.add(cname(`x.${'a'.repeat(64)}.rpz.takedown`))).toThrow(/label/);
    expect(() => packer.add(cname('a..b.rpz.takedown'))).toThrow(/label/);
    expect(() => packer.add(cname('évil.rpz.takedown'))).toThrow(/ASCII/);
    expect(() => packer.add(cname('evil.example'))).toThrow(/not in the zone/);
    // The refused names left nothing behind: later names still point to what is really there.
    packer.add(cname(`x.${'a'.repeat(63)}.rpz.takedown`));
    packer.add(cname(longest));
    const message = packer.finish();
    checkPointers(message);
    expect(dnsPacket.decode(message).answers?.map((answer) => answer.name)).toEqual([
      longest,
      `*.${longest.slice(2)}`,
      `x.${'a'.repeat(63)}.rpz.takedown`,
      longest,
    ]);
    expect(() => new MessagePacker(head(), MAX_TCP_MESSAGE)).toThrow(RangeError);
  });

  it('fills messages up to the 65 535-byte limit: no pointer reaches past 16 KiB, and TSIG still fits', () => {
    const limit = MAX_TCP_MESSAGE - TSIG_ROOM;
    const packer = new MessagePacker(head(), limit);
    // 253-byte names under one long parent, each twice: past 16 KiB the second copy cannot point to
    // the first and is written as a label and a pointer to the parent again.
    const parent = `${'p'.repeat(63)}.${'q'.repeat(63)}.${'r'.repeat(63)}`;
    const names = Array.from(
      { length: 1_000 },
      (_, i) => `${String(i).padStart(48, 'n')}.${parent}.rpz.takedown`,
    ).flatMap((name) => [name, name]);
    const messages: Buffer[] = [];
    for (const name of names) {
      const full = packer.add(cname(name));
      if (full) messages.push(Buffer.from(full));
    }
    messages.push(packer.finish());
    expect(messages.length).toBeGreaterThan(1);
    expect(Math.max(...messages.map((m) => m.length))).toBeGreaterThan(limit - 300);
    expect(messages.every((m) => m.length <= limit)).toBe(true);
    for (const message of messages) checkPointers(message);
    expect(answersOf(messages).map((answer) => answer.name)).toEqual(names);

    const [key] = resolveTsigKeys([
      { name: 'k'.repeat(63), algorithm: 'hmac-sha256', secret: Buffer.alloc(32, 1).toString('base64') },
    ]).values();
    const signer = new TsigSigner(key as NonNullable<typeof key>, new Uint8Array(32));
    expect(messages.every((m) => signer.sign(m).length <= MAX_TCP_MESSAGE)).toBe(true);
    expect(POINTER_WINDOW).toBe(TRANSFER_MESSAGE_LIMIT);
  });
});
