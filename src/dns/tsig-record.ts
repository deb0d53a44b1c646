import { canonicalWireName, readName, WireFormatError } from './wire-name.ts';

// The TSIG resource record (RFC 8945 section 4.2) in wire form. dns-packet has no codec for it, and
// its MAC covers raw message bytes anyway, so it is located and written here by offset.
//
//   NAME key name | TYPE 250 | CLASS ANY (255) | TTL 0 | RDLENGTH
//   RDATA: algorithm name | time signed (u48) | fudge (u16) | MAC size (u16) | MAC
//          | original ID (u16) | error (u16) | other len (u16) | other data

const TSIG_TYPE = 250;
const CLASS_ANY = 255;

/** The fields of one TSIG record; names are lower case without the trailing dot. */
export interface TsigRecord {
  keyName: string;
  algorithm: string;
  /** Seconds since the epoch (48 bits on the wire). */
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  error: number;
  otherData: Uint8Array;
}

/** Where a message's TSIG starts (its bytes before it are what the MAC covers) and what it says. */
export interface LocatedTsig {
  offset: number;
  record: TsigRecord;
}

function u16(message: Uint8Array, offset: number): number {
  if (offset + 2 > message.length) throw new WireFormatError(`message ends inside a field at ${offset}`);
  return ((message[offset] as number) << 8) | (message[offset + 1] as number);
}

function u48(message: Uint8Array, offset: number): number {
  return u16(message, offset) * 2 ** 32 + u16(message, offset + 2) * 2 ** 16 + u16(message, offset + 4);
}

function parseRdata(message: Uint8Array, start: number, end: number, keyName: string): TsigRecord {
  const { name: algorithm, end: afterAlgorithm } = readName(message, start);
  let offset = afterAlgorithm;
  const timeSigned = u48(message, offset);
  const fudge = u16(message, offset + 6);
  const macSize = u16(message, offset + 8);
  offset += 10;
  const mac = new Uint8Array(message.subarray(offset, offset + macSize));
  offset += macSize;
  const originalId = u16(message, offset);
  const error = u16(message, offset + 2);
  const otherLength = u16(message, offset + 4);
  offset += 6;
  const otherData = new Uint8Array(message.subarray(offset, offset + otherLength));
  if (mac.length !== macSize || offset + otherLength !== end) {
    throw new WireFormatError('TSIG RDATA length does not match its fields');
  }
  return { keyName, algorithm, timeSigned, fudge, mac, originalId, error, otherData };
}

/**
 * Walks every record of `message` and returns its TSIG when the last additional record is one,
 * undefined when there is none. Throws WireFormatError for a malformed message or a TSIG that is
 * not the last record (RFC 8945 section 5.1: FORMERR).
 */
export function locateTsig(message: Uint8Array): LocatedTsig | undefined {
  const questions = u16(message, 4);
  const records = u16(message, 6) + u16(message, 8) + u16(message, 10);
  let offset = 12;
  for (let i = 0; i < questions; i++) offset = readName(message, offset).end + 4;
  for (let i = 0; i < records; i++) {
    const start = offset;
    const { name, end } = readName(message, offset);
    const type = u16(message, end);
    const rdataLength = u16(message, end + 8);
    offset = end + 10 + rdataLength;
    if (offset > message.length) throw new WireFormatError(`record at ${start} runs past the message`);
    if (type !== TSIG_TYPE) continue;
    if (i !== records - 1 || u16(message, 10) === 0)
      throw new WireFormatError('TSIG is not the last additional record');
    if (u16(message, end + 2) !== CLASS_ANY) throw new WireFormatError('TSIG class is not ANY');
    return { offset: start, record: parseRdata(message, end + 10, offset, name) };
  }
  if (offset > message.length) throw new WireFormatError('question runs past the message');
  return undefined;
}

function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 8) & 0xff;
  bytes[offset + 1] = value & 0xff;
}

function writeU48(bytes: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / 2 ** 32);
  const low = value - high * 2 ** 32;
  writeU16(bytes, offset, high);
  writeU16(bytes, offset + 2, Math.floor(low / 2 ** 16));
  writeU16(bytes, offset + 4, low & 0xffff);
}

/** The TSIG variables as digested (RFC 8945 section 4.3.3): names, class, TTL, time, fudge, error, other. */
export function tsigVariables(record: Omit<TsigRecord, 'mac' | 'originalId'>): Uint8Array {
  const key = canonicalWireName(record.keyName);
  const algorithm = canonicalWireName(record.algorithm);
  const bytes = new Uint8Array(key.length + 6 + algorithm.length + 12 + record.otherData.length);
  bytes.set(key, 0);
  let offset = key.length;
  writeU16(bytes, offset, CLASS_ANY);
  offset += 6; // class, then a zero TTL
  bytes.set(algorithm, offset);
  offset += algorithm.length;
  writeU48(bytes, offset, record.timeSigned);
  writeU16(bytes, offset + 6, record.fudge);
  writeU16(bytes, offset + 8, record.error);
  writeU16(bytes, offset + 10, record.otherData.length);
  bytes.set(record.otherData, offset + 12);
  return bytes;
}

/** A 48-bit time in seconds, as BADTIME answers carry the server's clock in their other data. */
export function time48(seconds: number): Uint8Array {
  const bytes = new Uint8Array(6);
  writeU48(bytes, 0, seconds);
  return bytes;
}

/** Time signed and fudge alone, as every message after the first of a transfer digests them (section 4.3.1). */
export function tsigTimers(timeSigned: number, fudge: number): Uint8Array {
  const bytes = new Uint8Array(8);
  writeU48(bytes, 0, timeSigned);
  writeU16(bytes, 6, fudge);
  return bytes;
}

/** The whole TSIG resource record, ready to append to a message whose ARCOUNT is then raised by one. */
export function encodeTsigRecord(record: TsigRecord): Uint8Array {
  const key = canonicalWireName(record.keyName);
  const algorithm = canonicalWireName(record.algorithm);
  const rdataLength = algorithm.length + 16 + record.mac.length + record.otherData.length;
  const bytes = new Uint8Array(key.length + 10 + rdataLength);
  bytes.set(key, 0);
  let offset = key.length;
  writeU16(bytes, offset, TSIG_TYPE);
  writeU16(bytes, offset + 2, CLASS_ANY);
  writeU16(bytes, offset + 8, rdataLength);
  offset += 10;
  bytes.set(algorithm, offset);
  offset += algorithm.length;
  writeU48(bytes, offset, record.timeSigned);
  writeU16(bytes, offset + 6, record.fudge);
  writeU16(bytes, offset + 8, record.mac.length);
  offset += 10;
  bytes.set(record.mac, offset);
  offset += record.mac.length;
  writeU16(bytes, offset, record.originalId);
  writeU16(bytes, offset + 2, record.error);
  writeU16(bytes, offset + 4, record.otherData.length);
  bytes.set(record.otherData, offset + 6);
  return bytes;
}
