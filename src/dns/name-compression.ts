// Owner names of one message written with compression (RFC 1035 section 4.1.4): each name ends in a
// pointer to the longest of its suffixes already in the message. Every name served here lies in
// the zone, so the dictionary holds names relative to the origin and the origin is one offset.

/** A pointer has 14 bits: only names starting below this offset can be pointed to. */
export const POINTER_WINDOW = 0x4000;
const MAX_NAME_WIRE = 255;
const MAX_LABEL = 63;
const DOT = 0x2e;

/** A name the wire form cannot carry; the message says which and why. */
export class NameEncodingError extends Error {
  override name = 'NameEncodingError';
}

// Built only for an error: a message per call would cost more than the check.
const shownName = (name: string, zone: string) => (zone === '' ? name : `${name}.${zone}`);

/**
 * Throws unless `name` (dotted, no trailing dot, `''` = no label) has labels of 1-63 ASCII bytes
 * and its labels take at most `room` bytes on the wire (the root or origin after them not counted). Checked before any byte is
 * written, so a refused name leaves the message and its dictionary as they were.
 */
function checkName(name: string, room: number, zone: string): void {
  if (name.length === 0) return;
  if (name.length + 1 > room)
    throw new NameEncodingError(`"${shownName(name, zone)}" is longer than 255 bytes`);
  let label = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // Zone names are host names (`a-z 0-9 - _`, `*`): anything outside ASCII is a bug upstream.
    if (c > 0x7f) throw new NameEncodingError(`"${shownName(name, zone)}" is not ASCII`);
    if (c !== DOT) label++;
    else if (label === 0 || label > MAX_LABEL) break;
    else label = 0;
  }
  if (label === 0 || label > MAX_LABEL)
    throw new NameEncodingError(
      `"${shownName(name, zone)}" has an empty label or one over ${MAX_LABEL} bytes`,
    );
}

/** Writes the label `name[start, end)` at `at` and returns the offset past it. */
function writeLabel(name: string, start: number, end: number, buffer: Uint8Array, at: number): number {
  buffer[at++] = end - start;
  for (let i = start; i < end; i++) buffer[at++] = name.charCodeAt(i);
  return at;
}

/** `zone` (no trailing dot) in uncompressed wire form, root label included. */
function originWire(zone: string): Uint8Array {
  checkName(zone, MAX_NAME_WIRE - 1, '');
  const bytes = new Uint8Array(zone.length === 0 ? 1 : zone.length + 2);
  let at = 0;
  for (let start = 0; start < zone.length; ) {
    const dot = zone.indexOf('.', start);
    const end = dot === -1 ? zone.length : dot;
    at = writeLabel(zone, start, end, bytes, at);
    start = end + 1;
  }
  bytes[at] = 0;
  return bytes;
}

/**
 * The compression state of one message. Suffixes match byte for byte (case included), so a
 * decoded name is exactly the name given.
 */
export class NameCompressor {
  readonly zone: string;
  readonly #origin: Uint8Array;
  /** Relative suffix (`b.example` of `a.b.example`) -> offset of its first label. */
  readonly #suffixes = new Map<string, number>();
  #originAt = -1;
  /** The last name whose first label is at a pointable offset: the next name is often it again or one label below it. */
  #previous = '';
  #previousAt = -1;

  /** `zone`: the origin without trailing dot, as every owner name ends. */
  constructor(zone: string) {
    this.zone = zone;
    this.#origin = originWire(zone);
  }

  /** Forgets the previous message's names; `originAt` is where the origin already stands (the question), if anywhere. */
  reset(originAt = -1): void {
    this.#suffixes.clear();
    this.#originAt = originAt;
    this.#previousAt = -1;
  }

  /** `name` relative to the origin (`''` is the apex), or undefined when it lies outside the zone. */
  relative(name: string): string | undefined {
    if (name === this.zone) return '';
    const cut = name.length - this.zone.length - 1;
    return cut > 0 && name.charCodeAt(cut) === DOT && name.endsWith(this.zone)
      ? name.slice(0, cut)
      : undefined;
  }

  /** Writes `relative` + origin at `offset` of `buffer` and returns the offset past it. */
  write(relative: string, buffer: Uint8Array, offset: number): number {
    checkName(relative, MAX_NAME_WIRE - this.#origin.length, this.zone);
    const previous = this.#previous;
    const previousAt = this.#previousAt;
    if (previousAt !== -1 && relative.length >= previous.length) {
      if (relative === previous) return pointer(buffer, offset, previousAt);
      // One label above the previous name (`*.name` after `name`): no dictionary look-up needed.
      const cut = relative.length - previous.length - 1;
      if (
        cut > 0 &&
        relative.charCodeAt(cut) === DOT &&
        relative.indexOf('.') === cut &&
        relative.endsWith(previous)
      ) {
        this.#remember(relative, offset);
        return pointer(buffer, writeLabel(relative, 0, cut, buffer, offset), previousAt);
      }
    }
    let at = offset;
    for (let start = 0; start < relative.length; ) {
      const suffix = start === 0 ? relative : relative.slice(start);
      const known = this.#suffixes.get(suffix);
      if (known !== undefined) {
        if (start === 0) this.#remember(relative, known);
        return pointer(buffer, at, known);
      }
      if (start === 0) this.#remember(relative, offset);
      if (at < POINTER_WINDOW) this.#suffixes.set(suffix, at);
      const dot = relative.indexOf('.', start);
      const end = dot === -1 ? relative.length : dot;
      at = writeLabel(relative, start, end, buffer, at);
      start = end + 1;
    }
    if (this.#originAt !== -1) return pointer(buffer, at, this.#originAt);
    if (at < POINTER_WINDOW && this.#origin.length > 1) this.#originAt = at;
    buffer.set(this.#origin, at);
    return at + this.#origin.length;
  }

  #remember(name: string, at: number): void {
    if (at >= POINTER_WINDOW) return;
    this.#previous = name;
    this.#previousAt = at;
  }
}

function pointer(buffer: Uint8Array, at: number, target: number): number {
  buffer[at] = 0xc0 | (target >>> 8);
  buffer[at + 1] = target & 0xff;
  return at + 2;
}
