/**
 * The signed artifact: one self-contained file that a hub, a CDN or an object store can serve without
 * being trusted. Version 2, all integers unsigned big-endian (docs/FORMAT.md has the full description):
 *
 *   offset  size  field
 *   ------  ----  ---------------------------------------------------------------
 *        0     8  magic 89 54 4B 44 0D 0A 1A 0A ("\x89TKD\r\n\x1a\n")   header
 *        8     2  format version (2)                                     header
 *       10     1  kind: 1 snapshot, 2 delta, 3 keyset                    manifest
 *       11    16  feed name, ASCII [a-z0-9-], NUL padded                 manifest
 *       27     8  from version (0 for a snapshot or key set)             manifest
 *       35     8  to version                                             manifest
 *       43     8  created at, ms since the Unix epoch                    manifest
 *       51     8  expires at, ms since the Unix epoch                    manifest
 *       59     8  payload length                                         manifest
 *       67    32  payload SHA-256                                        manifest
 *       99     8  entry count of the resulting state                     manifest
 *      107    32  checksum of the resulting state (SHA-256)              manifest
 *      139     8  signing key id (SHA-256 of the raw public key, 8 bytes) manifest
 *      147     2  checkpoint length C                                    manifest
 *      149     C  checkpoint of version `to` (C2SP signed note, UTF-8)   manifest
 *    149+C    64  Ed25519 signature over bytes 0..148+C
 *    213+C     P  payload (P = payload length)
 *
 * The signature covers header and manifest; the payload is bound through its length and digest. Version 1
 * is the same without the checkpoint (bytes 147..148 and C = 0): it still decodes, with an empty checkpoint.
 */
import { fromHex, sha256, toHex, utf8 } from './bytes.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { KEY_ID_BYTES, SIGNATURE_BYTES, type SigningKey, sign } from './keys.ts';
import { fail, ok, type Result } from './types.ts';

/** Bump on any change of the bytes below or of a payload format (the golden test fails until it is bumped). */
export const FORMAT_VERSION = 4;
/** Set-hash checksums of plain feeds and filter payload format 2; consumers read it for plain feeds only. */
const FORMAT_VERSION_3 = 3;
/** The first version whose `filter` payloads (filter format 3) this code reads. */
const FILTER_SINCE_VERSION = 4;
/** The version before checkpoints, which consumers still read. */
const FORMAT_VERSION_1 = 1;
/** Checkpoints, with plain feeds still checksummed as one digest of the payload; consumers still read it. */
const FORMAT_VERSION_2 = 2;
const MAGIC = Uint8Array.of(0x89, 0x54, 0x4b, 0x44, 0x0d, 0x0a, 0x1a, 0x0a);
/** Bytes of the fixed part of header and manifest (all of it in version 1). */
const FIXED_BYTES = 147;
/** Bytes before the payload of an artifact without a checkpoint (the least any version 2 artifact has). */
export const MIN_PAYLOAD_OFFSET = FIXED_BYTES + 2 + SIGNATURE_BYTES;
const MAX_CHECKPOINT_BYTES = 0xffff;
/** The feed name of key-set artifacts, the only feed whose artifacts have kind `keyset`. */
export const KEYS_FEED = 'keys';

const KINDS = ['snapshot', 'delta', 'keyset'] as const;
export type ArtifactKind = (typeof KINDS)[number];
const FEED_BYTES = 16;
const FEED_NAME = /^[a-z0-9-]{1,16}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** What the publisher chooses; the rest of the manifest is derived from the payload and the key. */
export interface ManifestInput {
  kind: ArtifactKind;
  feed: string;
  /** 0 for a snapshot or a key set, which replace whatever the consumer held. */
  from: number;
  to: number;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  /** Milliseconds since the Unix epoch; consumers reject the artifact after it. */
  expiresAt: number;
  /** Entries of the state after applying the artifact. */
  entryCount: number;
  /** Lower-case hex SHA-256 identifying the state after applying the artifact. */
  checksum: string;
  /**
   * The transparency log's checkpoint of version `to` (a signed note, src/core/checkpoint.ts); the hub
   * always gives one for snapshots and deltas, key sets have none. Absent: "".
   */
  checkpoint?: string;
}

export interface Manifest extends ManifestInput {
  checkpoint: string;
  formatVersion: number;
  payloadLength: number;
  /** Lower-case hex. */
  payloadSha256: string;
  /** Lower-case hex of the signing key id. */
  keyId: string;
}

export interface DecodedArtifact {
  manifest: Manifest;
  /** The bytes the signature covers (a view into the input). */
  signedBytes: Uint8Array;
  signature: Uint8Array;
  /** Every byte after the signature (a view); verification compares it with the manifest. */
  payload: Uint8Array;
}

/** Thrown by the encoder for a manifest that no consumer would accept; the message names the field. */
export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/** The signed artifact of `payload`. Deterministic: the same inputs give the same bytes. */
export async function encodeArtifact(
  input: ManifestInput,
  payload: Uint8Array,
  key: SigningKey,
): Promise<Uint8Array> {
  const header = await encodeArtifactHeader(
    input,
    { length: payload.length, sha256: toHex(await sha256(payload)) },
    key,
  );
  const bytes = new Uint8Array(header.length + payload.length);
  bytes.set(header, 0);
  bytes.set(payload, header.length);
  return bytes;
}

/** What the manifest binds of a payload: its length and lower-case hex SHA-256. */
export interface PayloadDigest {
  length: number;
  sha256: string;
}

/** Bytes before the payload of an artifact carrying `checkpoint` (where a writer streams its payload). */
export function artifactHeaderLength(checkpoint: string): number {
  return FIXED_BYTES + 2 + utf8(checkpoint).length + SIGNATURE_BYTES;
}

/**
 * Header, manifest and signature of the artifact of a payload known only by its digest: the signature
 * covers them alone, so a payload streamed to a file gets the same bytes as {@link encodeArtifact} gives.
 */
export async function encodeArtifactHeader(
  input: ManifestInput,
  payload: PayloadDigest,
  key: SigningKey,
): Promise<Uint8Array> {
  const manifest: Manifest = {
    ...input,
    checkpoint: input.checkpoint ?? '',
    formatVersion: FORMAT_VERSION,
    payloadLength: payload.length,
    payloadSha256: payload.sha256,
    keyId: key.id,
  };
  const problem = manifestProblem(manifest);
  if (problem) throw new ArtifactError(`cannot encode artifact: ${problem}`);
  const checkpoint = utf8(manifest.checkpoint);
  if (checkpoint.length > MAX_CHECKPOINT_BYTES) throw new ArtifactError('checkpoint longer than 65535 bytes');
  const signedLength = FIXED_BYTES + 2 + checkpoint.length;
  const bytes = new Uint8Array(signedLength + SIGNATURE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint16(8, FORMAT_VERSION);
  view.setUint8(10, KINDS.indexOf(manifest.kind) + 1);
  for (let i = 0; i < manifest.feed.length; i++) bytes[11 + i] = manifest.feed.charCodeAt(i);
  const numbers = [
    manifest.from,
    manifest.to,
    manifest.createdAt,
    manifest.expiresAt,
    manifest.payloadLength,
  ];
  for (const [i, n] of numbers.entries()) view.setBigUint64(27 + 8 * i, BigInt(n));
  bytes.set(fromHex(manifest.payloadSha256) as Uint8Array, 67);
  view.setBigUint64(99, BigInt(manifest.entryCount));
  bytes.set(fromHex(manifest.checksum) as Uint8Array, 107);
  bytes.set(fromHex(manifest.keyId) as Uint8Array, 139);
  view.setUint16(FIXED_BYTES, checkpoint.length);
  bytes.set(checkpoint, FIXED_BYTES + 2);
  bytes.set(await sign(key, bytes.subarray(0, signedLength)), signedLength);
  return bytes;
}

/**
 * The parts of an artifact, checked for structure only (nothing is trusted yet): `malformed` for a bad
 * magic, a truncated header or an impossible manifest, `unsupported_format` for another version.
 */
export function decodeArtifact(bytes: Uint8Array): Result<DecodedArtifact> {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    return fail('malformed', 'not a takedown artifact (bad magic bytes)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const formatVersion = view.getUint16(8);
  if (
    formatVersion !== FORMAT_VERSION &&
    formatVersion !== FORMAT_VERSION_3 &&
    formatVersion !== FORMAT_VERSION_2 &&
    formatVersion !== FORMAT_VERSION_1
  ) {
    return fail(
      'unsupported_format',
      `artifact format version ${formatVersion}, this code reads ${FORMAT_VERSION_1} to ${FORMAT_VERSION}`,
    );
  }
  const signedLength = signedLengthOf(bytes);
  const payloadOffset = signedLength + SIGNATURE_BYTES;
  if (bytes.length < payloadOffset) {
    return fail(
      'malformed',
      `artifact truncated: ${bytes.length} bytes, its header alone needs ${payloadOffset}`,
    );
  }
  let checkpoint = '';
  if (formatVersion !== FORMAT_VERSION_1) {
    try {
      checkpoint = new TextDecoder('utf-8', { fatal: true }).decode(
        bytes.subarray(FIXED_BYTES + 2, signedLength),
      );
    } catch {
      return fail('malformed', 'checkpoint is not UTF-8');
    }
  }
  const kind = KINDS[view.getUint8(10) - 1];
  const feedBytes = bytes.subarray(11, 11 + FEED_BYTES);
  const feedLength = feedBytes.indexOf(0) === -1 ? FEED_BYTES : feedBytes.indexOf(0);
  const feed = String.fromCharCode(...feedBytes.subarray(0, feedLength));
  const [from, to, createdAt, expiresAt, payloadLength, entryCount] = [27, 35, 43, 51, 59, 99].map((offset) =>
    safeNumber(view.getBigUint64(offset)),
  );
  if (kind === undefined) return fail('malformed', `unknown artifact kind ${view.getUint8(10)}`);
  if (feedBytes.subarray(feedLength).some((b) => b !== 0))
    return fail('malformed', 'feed name is not NUL padded');
  if (feed === 'filter' && formatVersion < FILTER_SINCE_VERSION) {
    return fail(
      'unsupported_format',
      `filter artifact of format version ${formatVersion}: its Bloom filter predates format ${FILTER_SINCE_VERSION}, fetch a new snapshot`,
    );
  }
  const manifest: Manifest = {
    formatVersion,
    kind,
    feed,
    from: from as number,
    to: to as number,
    createdAt: createdAt as number,
    expiresAt: expiresAt as number,
    payloadLength: payloadLength as number,
    payloadSha256: toHex(bytes.subarray(67, 99)),
    entryCount: entryCount as number,
    checksum: toHex(bytes.subarray(107, 139)),
    keyId: toHex(bytes.subarray(139, 139 + KEY_ID_BYTES)),
    checkpoint,
  };
  const problem = manifestProblem(manifest);
  if (problem) return fail('malformed', `impossible manifest: ${problem}`);
  return ok({
    manifest,
    signedBytes: bytes.subarray(0, signedLength),
    signature: bytes.subarray(signedLength, payloadOffset),
    payload: bytes.subarray(payloadOffset),
  });
}

/** What makes a manifest impossible, if anything (the rules both the encoder and the decoder apply). */
function manifestProblem(m: Manifest): string | undefined {
  const numbers = {
    from: m.from,
    to: m.to,
    createdAt: m.createdAt,
    expiresAt: m.expiresAt,
    payloadLength: m.payloadLength,
    entryCount: m.entryCount,
  };
  for (const [name, n] of Object.entries(numbers)) {
    if (!Number.isSafeInteger(n) || n < 0) return `${name} ${n} is not a non-negative safe integer`;
  }
  if (!FEED_NAME.test(m.feed)) return `feed name "${m.feed}" is not 1-16 characters of [a-z0-9-]`;
  if ((m.feed === KEYS_FEED) !== (m.kind === 'keyset')) return `kind ${m.kind} in feed "${m.feed}"`;
  if (m.kind === 'delta' ? m.from >= m.to : m.from !== 0) return `${m.kind} from ${m.from} to ${m.to}`;
  if (m.kind === 'keyset' && m.to === 0) return 'key set version 0 (pinned keys are version 0)';
  if (m.expiresAt < m.createdAt) return `expiresAt ${m.expiresAt} before createdAt ${m.createdAt}`;
  if (!HEX_SHA256.test(m.checksum)) return `checksum "${m.checksum}" is not lower-case hex SHA-256`;
  if (!HEX_SHA256.test(m.payloadSha256))
    return `payload digest "${m.payloadSha256}" is not lower-case hex SHA-256`;
  if (m.checkpoint !== '') {
    if (m.kind === 'keyset') return 'a key set carries no checkpoint';
    const parsed = parseCheckpoint(m.checkpoint);
    if (!parsed.ok) return parsed.error.message;
    const { version } = parsed.value.checkpoint;
    if (version !== m.to) return `checkpoint of version ${version} in an artifact to version ${m.to}`;
  }
  return undefined;
}

/**
 * Bytes the signature covers (header and manifest), read from the header: what an artifact's identity
 * (an ETag, a file name) is computed over. Meaningful only for bytes that decode.
 */
export function signedLengthOf(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < FIXED_BYTES + 2 || view.getUint16(8) === FORMAT_VERSION_1) return FIXED_BYTES;
  return FIXED_BYTES + 2 + view.getUint16(FIXED_BYTES);
}

/** Where the payload starts (see signedLengthOf). */
export const payloadOffsetOf = (bytes: Uint8Array): number => signedLengthOf(bytes) + SIGNATURE_BYTES;

/**
 * The whole length an artifact's header announces (payload offset plus payload length), read from its
 * first bytes; undefined while they are too few or are no artifact. Nothing is trusted: a download only
 * sizes its buffer by it, and decodeArtifact checks the bytes that arrive.
 */
export function announcedLengthOf(head: Uint8Array): number | undefined {
  if (head.length < FIXED_BYTES + 2 || MAGIC.some((b, i) => head[i] !== b)) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const payloadLength = safeNumber(view.getBigUint64(59));
  return Number.isNaN(payloadLength) ? undefined : payloadOffsetOf(head) + payloadLength;
}

function safeNumber(n: bigint): number {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : Number.NaN;
}
