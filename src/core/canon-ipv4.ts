/**
 * The WHATWG URL IPv4 rules, which browsers (and so Safe Browsing) apply: a host whose last label is
 * a number is an IPv4 address in decimal, octal (`0` prefix) or hex (`0x` prefix), with 1 to 4 parts.
 */

const OVERFLOW = 2 ** 32;

function ipv4Number(s: string, start: number, end: number): number {
  if (start >= end) return -1;
  let radix = 10;
  if (end - start >= 2 && s.charCodeAt(start) === 48) {
    const x = s.charCodeAt(start + 1) | 0x20;
    if (x === 120) {
      radix = 16;
      start += 2;
    } else {
      radix = 8;
      start += 1;
    }
  }
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (radix === 16 && (c | 0x20) >= 97 && (c | 0x20) <= 102) d = (c | 0x20) - 87;
    else return -1;
    if (d >= radix) return -1;
    value = value * radix + d;
    if (value > OVERFLOW) value = OVERFLOW;
  }
  return value;
}

/** WHATWG "ends in a number": such a host must parse as IPv4 or it is invalid. `host` has no trailing dot. */
export function endsInNumber(host: string): boolean {
  const start = host.lastIndexOf('.') + 1;
  if (start >= host.length) return false;
  let digits = true;
  for (let i = start; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) {
      digits = false;
      break;
    }
  }
  return digits || ipv4Number(host, start, host.length) >= 0;
}

/** The dotted quad of an IPv4 host in any WHATWG form, or null when it is not a valid address. */
export function parseIpv4(host: string): string | null {
  const parts: number[] = [];
  let start = 0;
  for (;;) {
    const dot = host.indexOf('.', start);
    const end = dot === -1 ? host.length : dot;
    const n = ipv4Number(host, start, end);
    if (n < 0 || parts.length === 4) return null;
    parts.push(n);
    if (dot === -1) break;
    start = dot + 1;
  }
  const last = parts.length - 1;
  for (let i = 0; i < last; i++) if ((parts[i] as number) > 255) return null;
  if ((parts[last] as number) >= 256 ** (4 - last)) return null;
  let value = parts[last] as number;
  for (let i = 0; i < last; i++) value += (parts[i] as number) * 256 ** (3 - i);
  return `${Math.floor(value / 16777216)}.${Math.floor(value / 65536) % 256}.${Math.floor(value / 256) % 256}.${value % 256}`;
}
