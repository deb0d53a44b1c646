/**
 * Byte strings for URL canonicalization: a JS string whose every char code is one byte (0..255).
 * Safe Browsing defines canonicalization on bytes (unescape `%XX`, re-escape bytes >= 0x7f), so
 * non-ASCII input is first turned into its UTF-8 bytes and only the final output is ASCII again.
 */

const HEX = '0123456789ABCDEF';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 bytes of `s`, one char per byte; a lone surrogate becomes U+FFFD as in TextEncoder. */
export function toByteString(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) continue;
    out += s.slice(last, i);
    if (c < 0x800) {
      out += String.fromCharCode(0xc0 | (c >> 6), 0x80 | (c & 63));
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          out += String.fromCharCode(
            0xf0 | (cp >> 18),
            0x80 | ((cp >> 12) & 63),
            0x80 | ((cp >> 6) & 63),
            0x80 | (cp & 63),
          );
          i++;
          last = i + 1;
          continue;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      out += String.fromCharCode(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

/** Decodes a byte string as strict UTF-8; null when it is not valid UTF-8. */
export function fromByteString(bytes: string): string | null {
  const buf = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) buf[i] = bytes.charCodeAt(i);
  try {
    return utf8.decode(buf);
  } catch {
    return null;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

function unescapeOnce(s: string): string {
  let out = '';
  let last = 0;
  for (let i = s.indexOf('%'); i !== -1 && i + 2 < s.length; i = s.indexOf('%', i + 1)) {
    const hi = hexValue(s.charCodeAt(i + 1));
    const lo = hexValue(s.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) continue;
    out += s.slice(last, i) + String.fromCharCode((hi << 4) | lo);
    i += 2;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

/** Percent-unescapes until no `%XX` is left, as Safe Browsing does (`%2525` -> `%`). */
export function unescapeRepeatedly(s: string): string {
  let prev = s;
  for (;;) {
    const next = unescapeOnce(prev);
    if (next === prev) return next;
    prev = next;
  }
}

/** True for the bytes Safe Browsing escapes: <= 0x20, >= 0x7f, `#` and `%`. */
export function needsEscape(c: number): boolean {
  return c <= 0x20 || c >= 0x7f || c === 0x23 || c === 0x25;
}

/** Escapes a byte string as `%XX` (upper-case hex) where Safe Browsing requires it. */
export function escapeBytes(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!needsEscape(c)) continue;
    out += `${s.slice(last, i)}%${HEX[c >> 4]}${HEX[c & 15]}`;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}
