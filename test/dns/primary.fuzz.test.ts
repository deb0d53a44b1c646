import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, udpExchange } from '../../bench/lib/resolvers/unbound.ts';
import { createRpzPrimary, type RpzPrimary } from '../../src/dns/primary.ts';
import type { DnsLogEvent } from '../../src/dns/responder.ts';
import { resolveTsigKeys, signRequest } from '../../src/dns/tsig.ts';
import { sampleEntries } from './dns-tools.ts';

// Seeded fuzzing: random bytes and mutated valid requests (flipped bytes, truncation, wrong
// counts, oversized names, compression loops, bad TSIG) over UDP and TCP. The primary must keep
// answering, never throw inside a request, and close TCP connections that send garbage.

const SEED = 0x5eed_2024;
const KEY = {
  name: 'fuzz-key',
  algorithm: 'hmac-sha256' as const,
  secret: randomBytes(32).toString('base64'),
};

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const random = prng(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

function validRequest(): Buffer {
  const zone = 'rpz.takedown';
  const kind = int(6);
  const question = (type: string, name = zone) => [{ name, type, class: 'IN' }] as dnsPacket.Question[];
  const soa = [
    { name: zone, type: 'SOA', ttl: 0, data: { mname: 'a', rname: 'b', serial: int(20) } },
  ] as dnsPacket.Answer[];
  const id = int(0x10000);
  const base =
    kind === 0
      ? { questions: question('AXFR') }
      : kind === 1
        ? { questions: question('IXFR'), authorities: soa }
        : kind === 2
          ? {
              questions: question(
                pick(['A', 'SOA', 'NS', 'TXT', 'ANY']),
                `${pick(['x', 'a.b', '*'])}.${zone}`,
              ),
            }
          : kind === 3
            ? {
                questions: question('SOA'),
                additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 4096, flags: 0, options: [] }],
              }
            : { questions: question(pick(['SOA', 'IXFR', 'AXFR'])), authorities: soa };
  const message = dnsPacket.encode({
    id,
    type: 'query',
    flags: int(2) ? 0 : int(0x8000),
    ...base,
  } as dnsPacket.Packet);
  if (kind >= 4) {
    const [key] = resolveTsigKeys([KEY]).values();
    if (key)
      return signRequest(message, key, Math.floor(Date.now() / 1000) - (kind === 5 ? 10_000 : 0)).message;
  }
  return message;
}

function oversizedName(): Buffer {
  const header = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  const labels = Buffer.concat(
    Array.from({ length: 2 + int(8) }, () => Buffer.concat([Buffer.from([63]), bytes(63)])),
  );
  return Buffer.concat([header, labels, Buffer.from([0, 0, 6, 0, 1])]);
}

function compressionLoop(): Buffer {
  const header = Buffer.from([0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  // A pointer to itself, or forward, instead of a name.
  return Buffer.concat([header, Buffer.from([0xc0, pick([12, 14, 200]), 0, 6, 0, 1])]);
}

function mutate(message: Buffer): Buffer {
  const copy = Buffer.from(message);
  switch (int(5)) {
    case 0:
      for (let i = 0; i < 1 + int(4); i++) copy[int(copy.length)] = int(256);
      return copy;
    case 1:
      return copy.subarray(0, int(copy.length));
    case 2:
      copy.writeUInt16BE(int(0x10000), 4 + 2 * int(4));
      return copy;
    case 3:
      return Buffer.concat([copy, bytes(int(40))]);
    default:
      copy.writeUInt16BE(copy.readUInt16BE(10) + 1, 10);
      return copy;
  }
}

function fuzzMessage(): Buffer {
  switch (int(5)) {
    case 0:
      return bytes(int(600));
    case 1:
      return oversizedName();
    case 2:
      return compressionLoop();
    default:
      return mutate(validRequest());
  }
}

async function soaOverUdp(port: number): Promise<dnsPacket.DecodedPacket> {
  const query = dnsPacket.encode({
    id: 7,
    type: 'query',
    questions: [{ name: 'rpz.takedown', type: 'SOA' }],
  });
  return dnsPacket.decode(await udpExchange(port, query, { what: 'SOA answer' }));
}

/** Sends `frames` on one connection and resolves with what came back when the server closes (or after a while). */
function tcpSession(
  port: number,
  frames: Buffer[],
  rawTail?: Buffer,
): Promise<{ closedByServer: boolean; received: number }> {
  return new Promise((resolve) => {
    let received = 0;
    const socket = connect(port, '127.0.0.1', () => {
      for (const frame of frames) {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(frame.length);
        socket.write(Buffer.concat([length, frame]));
      }
      if (rawTail) socket.write(rawTail);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closedByServer: false, received });
    }, 250);
    socket.on('data', (chunk) => {
      received += chunk.length;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedByServer: true, received });
    });
  });
}

/** The answers of a whole zone transfer over TCP, read up to its closing SOA. */
function transferAnswers(port: number, query: Buffer): Promise<dnsPacket.Answer[]> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const answers: dnsPacket.Answer[] = [];
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(dnsPacket.streamEncode(dnsPacket.decode(query))),
    );
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        answers.push(...(dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))).answers ?? []));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      }
      if (answers.length > 1 && answers.at(-1)?.type === 'SOA') {
        socket.destroy();
        resolve(answers);
      }
    });
    socket.on('error', reject);
  });
}

describe('the primary under fuzzed input', () => {
  let primary: RpzPrimary;
  let port: number;
  const events: DnsLogEvent[] = [];
  beforeAll(async () => {
    const entries = sampleEntries();
    primary = createRpzPrimary({
      entries: () => entries,
      version: () => 5,
      tsigKeys: [KEY],
      allowTransfer: ['127.0.0.1'],
      log: (event) => events.push(event),
      // Every malformed message is counted here; the default limit would log only the first few.
      logLimit: { burst: Number.MAX_SAFE_INTEGER },
    });
    port = (await primary.listen('127.0.0.1', await freePort())).port;
  });
  afterAll(async () => {
    await primary?.close();
  });

  it('survives thousands of random and mutated UDP messages', { timeout: 60_000 }, async () => {
    const socket = createSocket('udp4');
    socket.on('message', () => {});
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    for (let i = 0; i < 5_000; i++) {
      socket.send(fuzzMessage(), port, '127.0.0.1');
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const soa = await soaOverUdp(port);
    expect((soa.flags ?? 0) & 0xf).toBe(0);
    expect(soa.answers?.[0]?.type).toBe('SOA');
    expect(events.filter((event) => event.event === 'error')).toEqual([]);
    expect(events.filter((event) => event.event === 'malformed').length).toBeGreaterThan(100);
  });

  it('closes TCP connections that send garbage, survives aborted transfers, and still answers', {
    timeout: 60_000,
  }, async () => {
    const garbage = await Promise.all(
      Array.from({ length: 200 }, () => tcpSession(port, [bytes(int(11))], int(2) ? bytes(1) : undefined)),
    );
    expect(garbage.every((session) => session.closedByServer)).toBe(true);
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from({ length: 25 }, () =>
          tcpSession(
            port,
            Array.from({ length: 1 + int(4) }, fuzzMessage),
            int(3) ? undefined : bytes(1 + int(3)),
          ),
        ),
      );
    }
    // Ask for a whole zone and hang up at once, many times: the transfers stop with their clients.
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        const query = dnsPacket.streamEncode({
          id: 9,
          type: 'query',
          questions: [{ name: 'rpz.takedown', type: 'AXFR' }],
        });
        socket.write(query, () => socket.destroy());
      }),
    );
    const soa = await soaOverUdp(port);
    expect(soa.answers?.[0]?.type).toBe('SOA');
    const whole = await transferAnswers(
      port,
      dnsPacket.encode({ id: 10, type: 'query', questions: [{ name: 'rpz.takedown', type: 'AXFR' }] }),
    );
    expect(whole.length).toBe(2 + 2 + 2 * 400 + 1); // SOA, NS, canary, entries, SOA
    expect(
      events.filter((event) => event.event === 'error' && event.message.startsWith('request failed')),
    ).toEqual([]);
  });
});
