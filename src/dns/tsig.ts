import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  encodeTsigRecord,
  type LocatedTsig,
  type TsigRecord,
  time48,
  tsigTimers,
  tsigVariables,
} from './tsig-record.ts';
import { canonicalWireName, printableName } from './wire-name.ts';

// TSIG (RFC 8945) with HMAC-SHA256: verifying a request, signing its response(s), and chaining MACs
// across the messages of a zone transfer (section 5.3.1: every message here is signed).

/** A shared secret as `tsig-keygen` prints it: name, algorithm, base64 secret. */
export interface TsigKey {
  name: string;
  algorithm: 'hmac-sha256';
  secret: string;
}

/** A key ready for use: name lower case without trailing dot, secret decoded. */
export interface ResolvedTsigKey {
  name: string;
  algorithm: 'hmac-sha256';
  secret: Uint8Array;
}

/** TSIG error codes of RFC 8945 section 3 (carried in the TSIG record, with RCODE NOTAUTH). */
export const TSIG_ERROR = { BADSIG: 16, BADKEY: 17, BADTIME: 18 } as const;

/** Seconds of clock skew allowed between signer and verifier (the RFC's recommended 300). */
const TSIG_FUDGE = 300;

const ALGORITHM = 'hmac-sha256';
const MAC_LENGTH = 32;

/** A TSIG key that cannot be used; the message names the key and what is wrong with it. */
export class TsigKeyError extends Error {
  override name = 'TsigKeyError';
}

/** Validates `keys` once, at the configuration boundary, and indexes them by name. */
export function resolveTsigKeys(keys: readonly TsigKey[]): Map<string, ResolvedTsigKey> {
  const resolved = new Map<string, ResolvedTsigKey>();
  for (const key of keys) {
    const name = key.name.replace(/\.$/, '').toLowerCase();
    try {
      canonicalWireName(name);
    } catch {
      throw new TsigKeyError(`TSIG key "${key.name}": not a valid key name`);
    }
    if (name === '') throw new TsigKeyError('TSIG key "": the name is empty');
    if (key.algorithm !== ALGORITHM)
      throw new TsigKeyError(`TSIG key "${key.name}": algorithm ${key.algorithm} is not hmac-sha256`);
    const secret = Buffer.from(key.secret, 'base64');
    if (
      secret.length < 16 ||
      secret.toString('base64').replace(/=+$/, '') !== key.secret.trim().replace(/=+$/, '')
    ) {
      throw new TsigKeyError(`TSIG key "${key.name}": the secret is not base64 of at least 16 bytes`);
    }
    if (resolved.has(name)) throw new TsigKeyError(`TSIG key "${key.name}" is configured twice`);
    resolved.set(name, { name, algorithm: ALGORITHM, secret });
  }
  return resolved;
}

function macOver(key: ResolvedTsigKey, parts: readonly Uint8Array[]): Uint8Array {
  const hmac = createHmac('sha256', key.secret);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

function macPrefix(mac: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(2 + mac.length);
  bytes[0] = mac.length >>> 8;
  bytes[1] = mac.length & 0xff;
  bytes.set(mac, 2);
  return bytes;
}

/** `message` with the TSIG record appended and ARCOUNT raised by one. */
function withTsig(message: Uint8Array, record: TsigRecord): Buffer {
  const tsig = encodeTsigRecord(record);
  const out = Buffer.allocUnsafe(message.length + tsig.length);
  out.set(message, 0);
  out.set(tsig, message.length);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

/** The message bytes a request's MAC covers: TSIG removed, ARCOUNT lowered, the original ID restored. */
function unsignedBytes(message: Uint8Array, tsig: LocatedTsig): Uint8Array {
  const bytes = Uint8Array.prototype.slice.call(message, 0, tsig.offset);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint16(0, tsig.record.originalId);
  view.setUint16(10, view.getUint16(10) - 1);
  return bytes;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Result of checking a request's TSIG: the key and MAC to answer with, or the TSIG error to report. */
export type TsigCheck =
  | { ok: true; key: ResolvedTsigKey; requestMac: Uint8Array; timeSigned: number }
  | { ok: false; error: number; reason: string; key?: ResolvedTsigKey; requestMac?: Uint8Array };

/**
 * Verifies a request's TSIG in the order of RFC 8945 section 5.2: known key and algorithm (else
 * BADKEY), MAC (else BADSIG), time within the fudge (else BADTIME).
 */
export function verifyRequest(
  message: Uint8Array,
  tsig: LocatedTsig,
  keys: ReadonlyMap<string, ResolvedTsigKey>,
  now = nowSeconds(),
): TsigCheck {
  const { record } = tsig;
  const key = keys.get(record.keyName);
  if (!key || record.algorithm !== ALGORITHM) {
    return {
      ok: false,
      error: TSIG_ERROR.BADKEY,
      reason: `unknown key ${printableName(record.keyName)} (${printableName(record.algorithm)})`,
    };
  }
  if (record.mac.length !== MAC_LENGTH) {
    return {
      ok: false,
      error: TSIG_ERROR.BADSIG,
      reason: `MAC of ${record.mac.length} bytes with key ${key.name}`,
    };
  }
  const expected = macOver(key, [unsignedBytes(message, tsig), tsigVariables(record)]);
  if (!timingSafeEqual(expected, record.mac)) {
    return { ok: false, error: TSIG_ERROR.BADSIG, reason: `bad MAC with key ${key.name}` };
  }
  if (Math.abs(now - record.timeSigned) > record.fudge) {
    return {
      ok: false,
      error: TSIG_ERROR.BADTIME,
      reason: `time signed ${record.timeSigned} is ${now - record.timeSigned} s off with key ${key.name}`,
      key,
      requestMac: record.mac,
    };
  }
  return { ok: true, key, requestMac: record.mac, timeSigned: record.timeSigned };
}

/**
 * Signs the response message(s) to one verified request. The first MAC covers the request's MAC,
 * the message and all TSIG variables; each later one covers the previous MAC, the message and the
 * timers only (RFC 8945 section 4.3.1), so a transfer's messages cannot be reordered or cut.
 */
export class TsigSigner {
  #previousMac: Uint8Array;
  #first = true;

  constructor(
    private readonly key: ResolvedTsigKey,
    requestMac: Uint8Array,
    private readonly clock: () => number = nowSeconds,
  ) {
    this.#previousMac = requestMac;
  }

  /**
   * `message` signed: the TSIG record appended, ARCOUNT raised. A BADTIME answer passes the
   * request's time as `timeSigned` and carries this server's clock as other data.
   */
  sign(message: Uint8Array, error = 0, timeSigned = this.clock()): Buffer {
    const otherData = error === TSIG_ERROR.BADTIME ? time48(this.clock()) : new Uint8Array(0);
    const fields = {
      keyName: this.key.name,
      algorithm: ALGORITHM,
      timeSigned,
      fudge: TSIG_FUDGE,
      error,
      otherData,
    };
    const tail = this.#first ? tsigVariables(fields) : tsigTimers(timeSigned, TSIG_FUDGE);
    const mac = macOver(this.key, [macPrefix(this.#previousMac), message, tail]);
    this.#previousMac = mac;
    this.#first = false;
    const originalId = (message[0] as number) * 256 + (message[1] as number);
    return withTsig(message, { ...fields, mac, originalId });
  }
}

/** A request signed with `key` (NOTIFY, tests): the digest is the message and the TSIG variables. */
export function signRequest(
  message: Uint8Array,
  key: ResolvedTsigKey,
  timeSigned = nowSeconds(),
): { message: Buffer; mac: Uint8Array } {
  const fields = {
    keyName: key.name,
    algorithm: ALGORITHM,
    timeSigned,
    fudge: TSIG_FUDGE,
    error: 0,
    otherData: new Uint8Array(0),
  };
  const mac = macOver(key, [message, tsigVariables(fields)]);
  const originalId = (message[0] as number) * 256 + (message[1] as number);
  return { message: withTsig(message, { ...fields, mac, originalId }), mac };
}

/** An unsigned error answer's TSIG (BADKEY, BADSIG: RFC 8945 section 5.3.2), echoing the request's key name. */
export function unsignedTsigError(message: Uint8Array, request: TsigRecord, error: number): Buffer {
  const originalId = (message[0] as number) * 256 + (message[1] as number);
  return withTsig(message, {
    keyName: request.keyName,
    algorithm: request.algorithm,
    timeSigned: nowSeconds(),
    fudge: TSIG_FUDGE,
    mac: new Uint8Array(0),
    originalId,
    error,
    otherData: new Uint8Array(0),
  });
}
