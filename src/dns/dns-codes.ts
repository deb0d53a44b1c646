// Header bits, opcodes and response codes (RFC 1035, 1996, 2136, 8945) that this server uses.

export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_RD = 0x0100;

export const OPCODE = { QUERY: 0, NOTIFY: 4 } as const;

/** The opcode field of a header's flags. dns-packet decodes it but never encodes it, so it is placed by hand. */
export const opcodeBits = (opcode: number): number => (opcode & 0xf) << 11;
export const opcodeOf = (flags: number): number => (flags >>> 11) & 0xf;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  NOTAUTH: 9,
} as const;
