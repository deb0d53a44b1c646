import type { Answer, Question } from 'dns-packet';
import { NameCompressor, NameEncodingError, POINTER_WINDOW } from './name-compression.ts';
import { recordBody, writeQuestion } from './record-body.ts';

// Packs a stream of answer records into DNS messages with compressed owner names, leaving room for
// the TSIG record each message gets after packing. Transfer messages stop at 16 KiB, the reach of a
// compression pointer: past it a name could not be pointed to, and a wildcard would repeat in full
// the name written just before it (docs/DECISIONS.md).

/** The largest DNS message a TCP frame's 16-bit length can announce. */
export const MAX_TCP_MESSAGE = 65_535;
/** Room kept for the TSIG record: a 255-byte key name, the algorithm name, a 32-byte MAC, fields. */
export const TSIG_ROOM = 512;
/** Where a transfer message is cut by default: every name in it can be a pointer's target. */
export const TRANSFER_MESSAGE_LIMIT = POINTER_WINDOW;
const MAX_NAME_WIRE = 255;
/** Room past the limit for the record that crosses it: an owner name and an ordinary body. */
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
  readonly #names: NameCompressor;

  /** The zone is the question's name: every owner name must lie in it. */
  constructor(
    private readonly head: ResponseHead,
    private readonly limit = TRANSFER_MESSAGE_LIMIT,
  ) {
    if (limit > MAX_TCP_MESSAGE - TSIG_ROOM)
      throw new RangeError(`message limit ${limit} leaves no room for TSIG under ${MAX_TCP_MESSAGE} bytes`);
    this.#names = new NameCompressor(head.question.name.toLowerCase());
    this.#start();
  }

  /** Messages completed so far. */
  get messages(): number {
    return this.#messages;
  }

  #start(): void {
    this.#buffer = Buffer.allocUnsafe(this.limit + RECORD_ROOM);
    this.#buffer.writeUInt16BE(this.head.id, 0);
    this.#buffer.writeUInt16BE(this.head.flags, 2);
    this.#buffer.fill(0, 4, 12);
    this.#offset = 12;
    this.#count = 0;
    if (!this.#first) {
      this.#names.reset();
      return;
    }
    this.#first = false;
    this.#buffer.writeUInt16BE(1, 4);
    this.#offset = writeQuestion(this.head.question, this.#buffer, 12);
    // Answers point at the question's name only when it is the origin byte for byte (case included).
    this.#names.reset(this.head.question.name === this.#names.zone ? 12 : -1);
  }

  #seal(): Buffer {
    this.#buffer.writeUInt16BE(this.#count, 6);
    this.#messages++;
    return this.#buffer.subarray(0, this.#offset);
  }

  /** Writes one record after the last and returns the offset past it (the message is not yet changed). */
  #write(owner: string, body: Uint8Array): number {
    const room = this.#offset + MAX_NAME_WIRE + body.length;
    if (room > this.#buffer.length) {
      const larger = Buffer.allocUnsafe(room);
      this.#buffer.copy(larger, 0, 0, this.#offset);
      this.#buffer = larger;
    }
    const end = this.#names.write(owner, this.#buffer, this.#offset);
    // A loop beats the native copy on the dozen bytes of a usual body.
    if (body.length > 64) this.#buffer.set(body, end);
    else for (let i = 0; i < body.length; i++) this.#buffer[end + i] = body[i] as number;
    return end + body.length;
  }

  /** `answer`, its owner name absolute without trailing dot, as dns-packet has it. */
  add(answer: Answer): Buffer | undefined {
    const owner = this.#names.relative(answer.name);
    if (owner === undefined)
      throw new NameEncodingError(`"${answer.name}" is not in the zone ${this.#names.zone}`);
    return this.addEncoded(owner, recordBody(answer));
  }

  /** A record by its owner name relative to the zone (`''` is the apex) and its `recordBody`. */
  addEncoded(owner: string, body: Uint8Array): Buffer | undefined {
    const end = this.#write(owner, body);
    if (end <= this.limit || this.#count === 0) return this.#accept(end);
    const full = this.#seal();
    this.#start();
    // Written again: the first try's pointers lead into the message just sealed.
    this.#accept(this.#write(owner, body));
    return full;
  }

  #accept(end: number): undefined {
    if (end > MAX_TCP_MESSAGE - TSIG_ROOM)
      throw new RangeError(`a record of ${end - this.#offset} bytes does not fit in one message`);
    this.#offset = end;
    this.#count++;
    return undefined;
  }

  /** The last message (it always holds at least the question or one answer). */
  finish(): Buffer {
    return this.#seal();
  }
}
