import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import * as dnsPacket from 'dns-packet';

// A stub resolver's side of DNS for the probe: queries over UDP with EDNS (so resolvers can attach
// Extended DNS Errors), one socket per resolver with many queries in flight, and a retry over TCP when
// the answer comes back truncated (RFC 7766).

/** EDNS payload size the probe advertises (the DNS flag day 2020 value). */
const UDP_PAYLOAD = 1232;

export type QueryType = 'A' | 'AAAA' | 'TXT';

export interface DnsExchange {
  /** The answer as received. */
  message: Buffer;
  transport: 'udp' | 'tcp';
}

/** No answer within the time allowed. */
export class DnsTimeoutError extends Error {
  override name = 'DnsTimeoutError';
}

interface Pending {
  name: string;
  resolve(message: Buffer): void;
  timer: NodeJS.Timeout;
}

function encodeQuery(id: number, name: string, type: QueryType): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: UDP_PAYLOAD,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      },
    ],
  });
}

/** The question name of a message (lower case), or undefined when it has none or does not parse. */
function questionName(message: Buffer): string | undefined {
  try {
    return dnsPacket.decode(message).questions?.[0]?.name.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Queries one resolver; `close()` when done. */
export class DnsClient {
  readonly #socket: UdpSocket;
  readonly #pending = new Map<number, Pending>();

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    if (isIP(host) === 0) throw new RangeError(`resolver "${host}" is not an IP address`);
    this.#socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    this.#socket.on('message', (message, remote) => this.#onMessage(message, remote.address, remote.port));
    this.#socket.on('error', () => {
      // A send to an unreachable resolver surfaces as a timeout of that query.
    });
    this.#socket.unref();
  }

  /** Asks `name` `type`; rejects with DnsTimeoutError after `timeoutMs` (per transport). */
  async query(name: string, type: QueryType, timeoutMs: number): Promise<DnsExchange> {
    const id = this.#freeId();
    const message = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new DnsTimeoutError(
            `no answer from ${this.host}#${this.port} for ${name} ${type} in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#pending.set(id, { name: name.toLowerCase(), resolve, timer });
      this.#socket.send(encodeQuery(id, name, type), this.port, this.host);
    });
    // TC: the answer did not fit the datagram; ask again over TCP for the whole of it.
    if ((message.readUInt16BE(2) & 0x0200) !== 0) {
      return { message: await this.#queryTcp(encodeQuery(id, name, type), timeoutMs), transport: 'tcp' };
    }
    return { message, transport: 'udp' };
  }

  close(): void {
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
    this.#socket.close();
  }

  #freeId(): number {
    for (;;) {
      const id = Math.floor(Math.random() * 0x10000);
      if (!this.#pending.has(id)) return id;
    }
  }

  #onMessage(message: Buffer, address: string, port: number): void {
    // Only an answer from the resolver asked, to a query in flight, for the name asked counts (anti-spoofing).
    if (message.length < 12 || address !== this.host || port !== this.port) return;
    const pending = this.#pending.get(message.readUInt16BE(0));
    if (!pending || questionName(message) !== pending.name) return;
    this.#pending.delete(message.readUInt16BE(0));
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  #queryTcp(query: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, this.host);
      let buffered = Buffer.alloc(0);
      const fail = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      socket.setTimeout(timeoutMs, () =>
        fail(new DnsTimeoutError(`no TCP answer from ${this.host}#${this.port} in ${timeoutMs} ms`)),
      );
      socket.on('error', fail);
      socket.on('connect', () => {
        const frame = Buffer.alloc(2 + query.length);
        frame.writeUInt16BE(query.length, 0);
        query.copy(frame, 2);
        socket.write(frame);
      });
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
        socket.destroy();
        resolve(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      });
    });
  }
}
