import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Answer } from 'dns-packet';
import * as dnsPacket from 'dns-packet';
import { FLAG_AA, FLAG_QR, OPCODE, opcodeBits, opcodeOf } from './dns-codes.ts';
import type { DnsLogEvent } from './responder.ts';
import { type ResolvedTsigKey, signRequest } from './tsig.ts';

// NOTIFY (RFC 1996): tell each secondary that the zone changed, over UDP, resending until it answers
// or the tries run out. Only the newest serial matters, so a new NOTIFY replaces a pending one.

/** A secondary to notify; `key` names a configured TSIG key to sign the NOTIFY with. */
export interface NotifyTarget {
  host: string;
  port: number;
  key?: string;
}

export interface NotifyRetry {
  /** Sends per NOTIFY, the first included. Default 5. */
  tries: number;
  /** Time between sends. Default 2000 ms. */
  intervalMs: number;
}

export const DEFAULT_NOTIFY_RETRY: NotifyRetry = { tries: 5, intervalMs: 2_000 };

interface Pending {
  id: number;
  timer: NodeJS.Timeout;
}

/** Sends NOTIFY messages from one UDP socket bound to the primary's address (secondaries check the source). */
export class Notifier {
  #socket: Socket | undefined;
  readonly #pending = new Map<NotifyTarget, Pending>();

  constructor(
    private readonly zone: string,
    private readonly targets: readonly NotifyTarget[],
    private readonly keys: ReadonlyMap<string, ResolvedTsigKey>,
    private readonly retry: NotifyRetry,
    private readonly log: (event: DnsLogEvent) => void,
  ) {
    for (const target of targets) {
      if (isIP(target.host) === 0) throw new RangeError(`notify: "${target.host}" is not an IP address`);
      if (target.key !== undefined && !keys.has(target.key.replace(/\.$/, '').toLowerCase())) {
        throw new RangeError(`notify: TSIG key "${target.key}" for ${target.host} is not configured`);
      }
    }
  }

  /** Binds the socket to `host` (port chosen by the system). */
  async open(host: string): Promise<void> {
    if (this.targets.length === 0 || this.#socket) return;
    const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    socket.on('message', (message, remote) => this.#onResponse(message, remote.address, remote.port));
    socket.on('error', (error) => this.log({ event: 'error', message: `NOTIFY socket: ${error.message}` }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.#socket = socket;
  }

  /** Notifies every target (or those at address `host`) of the zone's new SOA. */
  notify(soa: Answer, host?: string): void {
    const socket = this.#socket;
    if (!socket) return;
    for (const target of this.targets) {
      if (host !== undefined && target.host.toLowerCase() !== host) continue;
      this.#cancel(target);
      const id = Math.floor(Math.random() * 0x10000);
      const unsigned = dnsPacket.encode({
        id,
        type: 'query',
        flags: FLAG_AA | opcodeBits(OPCODE.NOTIFY),
        questions: [{ name: this.zone, type: 'SOA', class: 'IN' }],
        answers: [soa],
      });
      const key =
        target.key === undefined ? undefined : this.keys.get(target.key.replace(/\.$/, '').toLowerCase());
      const message = key ? signRequest(unsigned, key).message : unsigned;
      let sent = 0;
      const send = () => {
        if (sent === this.retry.tries) {
          this.#pending.delete(target);
          this.log({
            event: 'notify',
            message: `NOTIFY to ${target.host}#${target.port} unanswered after ${sent} tries`,
          });
          return;
        }
        sent++;
        socket.send(message, target.port, target.host);
        const pending = this.#pending.get(target);
        if (pending) pending.timer = setTimeout(send, this.retry.intervalMs);
      };
      this.#pending.set(target, { id, timer: setTimeout(send, 0) });
    }
  }

  #onResponse(message: Buffer, address: string, port: number): void {
    if (message.length < 12) return;
    const id = message.readUInt16BE(0);
    const flags = message.readUInt16BE(2);
    if ((flags & FLAG_QR) === 0 || opcodeOf(flags) !== OPCODE.NOTIFY) return;
    for (const [target, pending] of this.#pending) {
      if (pending.id === id && target.host === address && target.port === port) {
        this.#cancel(target);
        this.log({
          event: 'notify',
          client: `${address}#${port}`,
          message: `NOTIFY answered with rcode ${flags & 0xf}`,
        });
      }
    }
  }

  #cancel(target: NotifyTarget): void {
    const pending = this.#pending.get(target);
    if (pending) clearTimeout(pending.timer);
    this.#pending.delete(target);
  }

  async close(): Promise<void> {
    for (const target of [...this.#pending.keys()]) this.#cancel(target);
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
