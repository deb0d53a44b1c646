// Domain names read straight from message bytes, for the parts dns-packet does not cover (TSIG,
// locating records by offset). Every read is bounds-checked: input comes from the network.

const MAX_NAME_WIRE = 255;
const MAX_POINTER_HOPS = 127;

/** A message that cannot be walked: the text names what is wrong and where. */
export class WireFormatError extends Error {
  override name = 'WireFormatError';
}

/**
 * Reads the name at `offset` (following compression pointers backwards only) and returns it in
 * lower case without the trailing dot (`''` is the root), with the offset just past it.
 */
export function readName(message: Uint8Array, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let position = offset;
  let end = -1;
  let wireLength = 1;
  for (let hops = 0; ; ) {
    if (position >= message.length) throw new WireFormatError(`name at ${offset} runs past the message`);
    const length = message[position] as number;
    if (length === 0) return { name: labels.join('.'), end: end === -1 ? position + 1 : end };
    if ((length & 0xc0) === 0xc0) {
      if (position + 1 >= message.length)
        throw new WireFormatError(`pointer at ${position} runs past the message`);
      const target = ((length & 0x3f) << 8) | (message[position + 1] as number);
      if (target >= position || ++hops > MAX_POINTER_HOPS)
        throw new WireFormatError(`bad pointer at ${position}`);
      if (end === -1) end = position + 2;
      position = target;
      continue;
    }
    if ((length & 0xc0) !== 0) throw new WireFormatError(`bad label type at ${position}`);
    wireLength += length + 1;
    if (wireLength > MAX_NAME_WIRE) throw new WireFormatError(`name at ${offset} is longer than 255 bytes`);
    if (position + 1 + length > message.length)
      throw new WireFormatError(`label at ${position} runs past the message`);
    let label = '';
    for (let i = position + 1; i <= position + length; i++) {
      const c = message[i] as number;
      label += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    labels.push(label);
    position += 1 + length;
  }
}

/** The uncompressed, lower-case wire form of `name` (RFC 4034 canonical form), as TSIG digests it. */
export function canonicalWireName(name: string): Uint8Array {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = trimmed === '' ? [] : trimmed.toLowerCase().split('.');
  const bytes = new Uint8Array(labels.reduce((sum, label) => sum + label.length + 1, 1));
  let offset = 0;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63)
      throw new WireFormatError(`"${name}" has an empty or oversized label`);
    bytes[offset++] = label.length;
    for (let i = 0; i < label.length; i++) bytes[offset++] = label.charCodeAt(i) & 0xff;
  }
  if (bytes.length > MAX_NAME_WIRE) throw new WireFormatError(`"${name}" is longer than 255 bytes`);
  return bytes;
}

/** `name` safe to log: bytes outside printable ASCII become `\\DDD`, as in zone files. */
export function printableName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    out += c > 0x20 && c < 0x7f && c !== 0x5c ? name[i] : `\\${String(c & 0xff).padStart(3, '0')}`;
  }
  return out;
}
