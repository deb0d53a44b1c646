import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, missingTools } from '../../bench/lib/resolvers/unbound.ts';
import { createRpzPrimary, type RpzPrimaryOptions } from '../../src/dns/primary.ts';
import type { DnsLogEvent } from '../../src/dns/responder.ts';
import { dig, domainEntry, recordSet } from './dns-tools.ts';

// Hostile peers on loopback (all of 127/8 is local on Linux, so each test address is a distinct
// client): connection floods, slow senders, garbage floods. The primary must keep serving the
// secondaries it is meant to serve, and keep its log readable.

const KEY = {
  name: 'xfr-key',
  algorithm: 'hmac-sha256' as const,
  secret: randomBytes(32).toString('base64'),
};
const entries = [domainEntry('evil.test')];
const CNAME = 'evil.test.rpz.takedown. 60 IN CNAME .';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function startPrimary(extra: Partial<RpzPrimaryOptions>) {
  const events: DnsLogEvent[] = [];
  const primary = createRpzPrimary({
    entries: () => entries,
    version: () => 3,
    tsigKeys: [KEY],
    allowTransfer: ['127.0.0.2'],
    log: (event) => events.push(event),
    ...extra,
  });
  const { port } = await primary.listen('127.0.0.1', await freePort());
  const held: Socket[] = [];
  close = async () => {
    for (const socket of held) socket.destroy();
    await primary.close();
  };
  return { primary, port, events, held };
}

/**
 * Opens `count` connections from `from` that never send anything; resolves once each is either
 * connected or closed, with the set of those still open (kept up to date as they close).
 */
async function idleConnections(
  port: number,
  from: string,
  count: number,
  held: Socket[],
  open = new Set<Socket>(),
) {
  for (let batch = 0; batch < count; batch += 100) {
    await Promise.all(
      Array.from(
        { length: Math.min(100, count - batch) },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect({ port, host: '127.0.0.1', localAddress: from });
            held.push(socket);
            socket.on('error', () => {});
            socket.on('connect', () => {
              open.add(socket);
              resolve();
            });
            socket.on('close', () => {
              open.delete(socket);
              resolve();
            });
          }),
      ),
    );
  }
  return open;
}

/** The server resets refused connections right after accepting them: let those resets land. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

const axfr = (port: number, ...args: string[]) =>
  dig('@127.0.0.1', '-p', String(port), ...args, 'rpz.takedown', 'AXFR');

describe.skipIf(missingTools(['dig']))('TCP connection limits', () => {
  it('holds 1 000 idle connections from one address to its per-client cap while an allowed secondary transfers', {
    timeout: 60_000,
  }, async () => {
    const { port, events, held } = await startPrimary({});
    const open = await idleConnections(port, '127.0.0.1', 1_000, held);
    await settle();
    expect(open.size).toBe(8);
    expect(recordSet(await axfr(port, '-b', '127.0.0.2'))).toContain(CNAME);
    expect(
      recordSet(await axfr(port, '-b', '127.0.0.3', '-y', `hmac-sha256:${KEY.name}:${KEY.secret}`)),
    ).toContain(CNAME);
    // 992 refusals, logged as a handful of lines.
    const refusals = events.filter((event) => event.message.startsWith('TCP connection refused'));
    expect(refusals.length).toBe(20);
    expect(refusals[0]?.message).toBe('TCP connection refused: 8 from this address');
  });

  it('keeps reserved slots for allowed and TSIG-signing peers when many addresses fill the rest', {
    timeout: 60_000,
  }, async () => {
    const limits = { maxConnections: 24, reservedConnections: 4, perClient: 2 };
    const { port, held } = await startPrimary({ tcpLimits: limits });
    const open = new Set<Socket>();
    for (let host = 10; host < 30; host++) await idleConnections(port, `127.0.1.${host}`, 2, held, open);
    await settle();
    // 20 slots for connections that proved nothing: each newcomer replaced the oldest.
    expect(open.size).toBe(20);
    expect(recordSet(await axfr(port, '-b', '127.0.0.2'))).toContain(CNAME);
    expect(
      recordSet(await axfr(port, '-b', '127.0.0.3', '-y', `hmac-sha256:${KEY.name}:${KEY.secret}`)),
    ).toContain(CNAME);
    await settle();
    // The signing secondary took the place of the oldest idle connection; the allowed one took a reserved slot.
    expect(open.size).toBe(19);
  });

  it('cuts a client that trickles a request one byte a second at the message deadline', {
    timeout: 30_000,
  }, async () => {
    const { port, held } = await startPrimary({ tcpLimits: { messageTimeoutMs: 2_000 } });
    const query = dnsPacket.streamEncode({
      id: 1,
      type: 'query',
      questions: [{ name: 'rpz.takedown', type: 'AXFR' }],
    });
    const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    held.push(socket);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < query.length && !socket.destroyed) socket.write(query.subarray(sent, ++sent));
    }, 1_000);
    await new Promise((resolve) => socket.once('close', resolve));
    clearInterval(trickle);
    const elapsed = Date.now() - started;
    // Every byte arrived in time for an idle timer; the request as a whole did not.
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThan(query.length);
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(query.length * 1_000);
  });

  it('logs a flood of malformed packets as a few lines and a count', { timeout: 30_000 }, async () => {
    const { primary, port, events } = await startPrimary({});
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    for (let i = 0; i < 300; i++) {
      socket.send(Buffer.from([0, i & 0xff, 0x81]), port, '127.0.0.1');
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.close();
    await primary.close();
    const malformed = events.filter((event) => event.event === 'malformed').map((event) => event.message);
    expect(malformed.length).toBe(21);
    expect(malformed[0]).toBe('ignored 3-byte message: not a request');
    expect(malformed[20]).toBe('280 more malformed events in the last 60 s not logged');
  });
});
