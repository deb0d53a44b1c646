import type { Answer, Question } from 'dns-packet';
import * as dnsPacket from 'dns-packet';

// Record bodies (everything after the owner name) and questions in wire form, by dns-packet's own
// codecs: the message packer writes owner names itself, to compress them.

interface Codec<T> {
  /** Writes `value` at `offset`; `encode.bytes` then holds the number of bytes written. */
  encode: { (value: T, buffer: Buffer, offset: number): Buffer; bytes: number };
  encodingLength(value: T): number;
}
// dns-packet exports its per-record codecs but its type declarations do not mention them.
const { answer: answerCodec, question: questionCodec } = dnsPacket as unknown as {
  answer: Codec<Answer>;
  question: Codec<Question>;
};

/** TYPE, CLASS, TTL, RDLENGTH and RDATA of `answer` (names in the data uncompressed). */
export function recordBody(answer: Answer): Uint8Array {
  // Encoded under the root name (one zero byte), which is then cut off.
  const rooted = { ...answer, name: '.' } as Answer;
  const encoded = Buffer.allocUnsafe(answerCodec.encodingLength(rooted));
  answerCodec.encode(rooted, encoded, 0);
  return encoded.subarray(1);
}

/** Writes `question` uncompressed at `offset` and returns the offset past it. */
export function writeQuestion(question: Question, buffer: Buffer, offset: number): number {
  questionCodec.encode(question, buffer, offset);
  return offset + questionCodec.encode.bytes;
}
