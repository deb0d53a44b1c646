import type { FeedEntry } from '../core/types.ts';
import type { RefLookup } from './options.ts';

// Every byte a renderer copies from a feed into a resolver's configuration passes these checks, so a
// corrupt or hostile entry can never add a directive, a record or a line (configuration injection).

const DOT = 0x2e;
const MAX_NAME = 253;
const MAX_LABEL = 63;

function isNameByte(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * A lower-case host name without trailing dot, as canonical expressions carry it: labels of
 * `a-z 0-9 - _` (1-63 bytes), at most 253 bytes, and a last label that is not all digits (an IPv4
 * literal or a numeric top-level label cannot be blocked by name).
 */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME) return false;
  let label = 0;
  let digitsOnly = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === DOT) {
      if (label === 0) return false;
      label = 0;
      digitsOnly = true;
    } else if (isNameByte(c)) {
      if (++label > MAX_LABEL) return false;
      if (!isDigit(c)) digitsOnly = false;
    } else {
      return false;
    }
  }
  return label > 0 && !digitsOnly;
}

/**
 * Where the name at `bytes[start...]` ends: the index of the first byte before `end` that is neither a
 * name byte nor a dot (or `end`), when the bytes before it are a DNS name ({@link isDnsName}); -1 when
 * they are not. Read in place, so the agent checks millions of snapshot lines without a string each;
 * test/render/names.test.ts holds it to `isDnsName`.
 */
export function dnsNameEnd(bytes: Uint8Array, start: number, end: number): number {
  // One byte past the longest name, so a longer one is seen as such.
  const stop = Math.min(end, start + MAX_NAME + 1);
  let label = start;
  // The last name byte that is no digit: the last label must hold one.
  let letter = start - 1;
  let i = start;
  for (; i < stop; i++) {
    const kind = BYTE_KINDS[bytes[i] as number];
    if (kind === LETTER) {
      letter = i;
    } else if (kind === DOT_BYTE) {
      if (i === label || i - label > MAX_LABEL) return -1;
      label = i + 1;
    } else if (kind !== DIGIT) {
      break;
    }
  }
  const valid = i - start <= MAX_NAME && i > label && i - label <= MAX_LABEL && letter >= label;
  return valid ? i : -1;
}

const OTHER = 0;
const LETTER = 1;
const DIGIT = 2;
const DOT_BYTE = 3;
/** What each byte is in a name (LETTER: any name byte but a digit), one lookup per byte read. */
const BYTE_KINDS = Uint8Array.from({ length: 256 }, (_, c) =>
  c === DOT ? DOT_BYTE : isDigit(c) ? DIGIT : isNameByte(c) ? LETTER : OTHER,
);

/** The host name of a `domain` expression (`host/`), or undefined when it is not one a resolver can hold. */
export function domainName(expression: string): string | undefined {
  if (expression.length < 2 || expression.charCodeAt(expression.length - 1) !== 0x2f) return undefined;
  const name = expression.slice(0, -1);
  return isDnsName(name) ? name : undefined;
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

function isVisibleAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** Host and path (`/…` with the query, if any) of a `url` expression, or undefined when malformed. */
export function urlTarget(expression: string): { host: string; path: string } | undefined {
  const slash = expression.indexOf('/');
  if (slash <= 0) return undefined;
  const host = expression.slice(0, slash);
  const path = expression.slice(slash);
  if (!isDnsName(host) && !IPV4.test(host) && !IPV6.test(host)) return undefined;
  return isVisibleAscii(path) ? { host, path } : undefined;
}

// C0 controls and DEL would end a comment early and start a line of the reader's choosing.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters being removed.
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

/** `category reference(s)` for a trailing comment, on one line whatever the reference holds. */
export function traceComment(entry: FeedEntry, refs: RefLookup | undefined): string {
  const ref = refs?.(entry.expression);
  return (ref ? `${entry.category} ${ref}` : entry.category).replace(CONTROL, ' ').trim();
}

/** The record type of a walled-garden address (options have validated it already). */
export function addressRecordType(address: string): 'A' | 'AAAA' {
  return address.includes(':') ? 'AAAA' : 'A';
}
