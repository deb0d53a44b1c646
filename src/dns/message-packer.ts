import type { Answer, Question } from 'dns-packet';
import * as dnsPacket from 'dns-packet';

// Packs a stream of answer records into DNS messages no larger than the 64 KiB a TCP frame can
// carry, leaving room for the TSIG record each message gets after packing.

interface Codec<T> {
  /** Writes `value` at `offset`; `encode.bytes` then holds the number of bytes written. */
  encode: { (value: T, buffer: Buffer, offset: number): Buffer; bytes: number };
}
// dns-packet exports its per-record codecs but its type declarations do not mention them.
const { answer: answerCodec, question: questionCodec } = dnsPacket as unknown as {
  answer: Codec<Answer>;
  question: Codec<Question>;
};

/** The largest DNS message a TCP frame's 16-bit length can announce. */
export const MAX_TCP_MESSAGE = 65_535;
/** Room kept for the TSIG record: a 255-byte key name, the algorithm name, a 32-byte MAC, fields. */
const TSIG_ROOM = 512;
/** More than any one record of this zone takes (two 255-byte names and an SOA's fixed fields). */
const RECORD_ROOM = 1024;

/** What every message of one response repeats: the request's ID, the flags, the question (first message only). */
export interface ResponseHead {
  id: number;
  flags: number;
  question: Question;
}

/** Accumulates answers; `add` hands back a full message when the next answer would not fit. */
export class MessagePacker {
  #buffer = Buffer.alloc(0);
  #offset = 0;
  #count = 0;
  #first = true;
  #messages = 0;

  constructor(
    private readonly head: ResponseHead,
    private readonly limit = MAX_TCP_MESSAGE - TSIG_ROOM,
  ) {
    this.#start();
  }

  /** Messages completed so far. */
  get messages(): number {
    return this.#messages;
  }

  #start(): void {
    // Room past the limit lets `add` encode first and measure after, instead of sizing every record twice.
    this.#buffer = Buffer.allocUnsafe(this.limit + RECORD_ROOM);
    this.#buffer.writeUInt16BE(this.head.id, 0);
    this.#buffer.writeUInt16BE(this.head.flags, 2);
    this.#buffer.fill(0, 4, 12);
    this.#offset = 12;
    this.#count = 0;
    if (this.#first) {
      questionCodec.encode(this.head.question, this.#buffer, this.#offset);
      this.#offset += questionCodec.encode.bytes;
      this.#buffer.writeUInt16BE(1, 4);
      this.#first = false;
    }
  }

  #seal(): Buffer {
    this.#buffer.writeUInt16BE(this.#count, 6);
    this.#messages++;
    return this.#buffer.subarray(0, this.#offset);
  }

  add(answer: Answer): Buffer | undefined {
    const start = this.#offset;
    answerCodec.encode(answer, this.#buffer, start);
    const end = start + answerCodec.encode.bytes;
    if (end <= this.limit || this.#count === 0) {
      this.#offset = end;
      this.#count++;
      return undefined;
    }
    const overflow = this.#buffer;
    this.#offset = start;
    const full = this.#seal();
    this.#start();
    overflow.copy(this.#buffer, this.#offset, start, end);
    this.#offset += end - start;
    this.#count++;
    return full;
  }

  /** The last message (it always holds at least the question or one answer). */
  finish(): Buffer {
    return this.#seal();
  }
}
