// Owner names of one message written with compression (RFC 1035 section 4.1.4): each name ends in a
// pointer to the longest of its suffixes already in the message. Every name served here lies in
// the zone, so the dictionary holds names relative to the origin and the origin is one offset.

/** A pointer has 14 bits: only names starting below this offset can be pointed to. */
export const POINTER_WINDOW = 0x4000;
const MAX_NAME_WIRE = 255;
const MAX_LABEL = 63;

/** A name the wire form cannot carry; the message says which and why. */
export class NameEncodingError extends Error {
  override name = 'NameEncodingError';
}

function checkLabel(length: number, name: string): void {
  if (length === 0 || length > MAX_LABEL)
    throw new NameEncodingError(`"${name}" has an empty label or one over ${MAX_LABEL} bytes`);
}

/** `zone` (no trailing dot) in uncompressed wire form, root label included. */
function originWire(zone: string): Uint8Array {
  const labels = zone === '' ? [] : zone.split('.');
  const bytes = new Uint8Array(labels.reduce((sum, label) => sum + label.length + 1, 1));
  let offset = 0;
  for (const label of labels) {
    checkLabel(label.length, zone);
    bytes[offset++] = label.length;
    for (let i = 0; i < label.length; i++) bytes[offset++] = asciiCode(label, i, zone);
  }
  if (bytes.length > MAX_NAME_WIRE) throw new NameEncodingError(`"${zone}" is longer than 255 bytes`);
  return bytes;
}

// Zone names here are host names (`a-z 0-9 - _`, `*`); any byte outside ASCII means a bug upstream.
function asciiCode(name: string, index: number, whole: string): number {
  const c = name.charCodeAt(index);
  if (c > 0x7f) throw new NameEncodingError(`"${whole}" is not ASCII`);
  return c;
}

/**
 * The compression state of one message. Suffixes match byte for byte (case included), so a
 * decoded name is exactly the name given.
 */
export class NameCompressor {
  readonly zone: string;
  readonly #origin: Uint8Array;
  /** Relative suffix (`b.example` of `a.b.example`) -> offset of its first label. */
  #suffixes = new Map<string, number>();
  #originAt = -1;
  /** The last name written whole or in part, and its offset: the next is often it again or one label below it. */
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
    return cut > 0 && name.charCodeAt(cut) === 0x2e && name.endsWith(this.zone)
      ? name.slice(0, cut)
      : undefined;
  }

  /** Writes `relative` + origin at `offset` of `buffer` and returns the offset past it. */
  write(relative: string, buffer: Uint8Array, offset: number): number {
    if (relative.length > 0 && relative.length + this.#origin.length + 1 > MAX_NAME_WIRE)
      throw new NameEncodingError(`"${relative}.${this.zone}" is longer than 255 bytes`);
    const previous = this.#previous;
    const previousAt = this.#previousAt;
    if (previousAt !== -1 && relative.length >= previous.length) {
      if (relative === previous) return pointer(buffer, offset, previousAt);
      const cut = relative.length - previous.length - 1;
      if (
        cut > 0 &&
        relative.charCodeAt(cut) === 0x2e &&
        relative.indexOf('.') === cut &&
        relative.endsWith(previous)
      ) {
        this.#remember(relative, offset);
        return pointer(buffer, this.#label(relative, 0, cut, buffer, offset), previousAt);
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
      let end = relative.indexOf('.', start);
      if (end === -1) end = relative.length;
      if (at < POINTER_WINDOW) this.#suffixes.set(suffix, at);
      at = this.#label(relative, start, end, buffer, at);
      start = end + 1;
    }
    if (this.#originAt !== -1) return pointer(buffer, at, this.#originAt);
    if (at < POINTER_WINDOW && this.#origin.length > 1) this.#originAt = at;
    buffer.set(this.#origin, at);
    return at + this.#origin.length;
  }

  /** `name`'s first label stands at `at`: the next name may repeat it or add one label to it. */
  #remember(name: string, at: number): void {
    if (at >= POINTER_WINDOW) return;
    this.#previous = name;
    this.#previousAt = at;
  }

  /** Writes the label `name[start, end)` at `at` and returns the offset past it. */
  #label(name: string, start: number, end: number, buffer: Uint8Array, at: number): number {
    checkLabel(end - start, name);
    buffer[at++] = end - start;
    for (let i = start; i < end; i++) buffer[at++] = asciiCode(name, i, name);
    return at;
  }
}

function pointer(buffer: Uint8Array, at: number, target: number): number {
  buffer[at] = 0xc0 | (target >>> 8);
  buffer[at + 1] = target & 0xff;
  return at + 2;
}
