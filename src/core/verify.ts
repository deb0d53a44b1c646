/**
 * What a consumer checks before it trusts an artifact (docs/ARCHITECTURE.md: what a consumer verifies; in the spirit of TUF): every
 * rule fails with its own code, so an operator sees why an update was refused. The state itself is
 * checked after applying, by {@link verifyResultingState}.
 */
import { type DecodedArtifact, decodeArtifact, type Manifest } from './artifact.ts';
import { equalBytes, fromHex, sha256 } from './bytes.ts';
import { type PublicKey, verifySignature } from './keys.ts';
import { fail, ok, type Result } from './types.ts';

/** Every reason to reject an artifact, in the order the rules run. */
export const VERIFY_CODES = [
  'too_large',
  'malformed',
  'unsupported_format',
  'untrusted_key',
  'bad_signature',
  'wrong_feed',
  'rollback',
  'gap',
  'expired',
  'payload_length',
  'payload_digest',
  'entry_count_mismatch',
  'checksum_mismatch',
] as const;
export type VerifyCode = (typeof VERIFY_CODES)[number];

/** Artifacts above this many bytes are refused unless the consumer sets its own limit. */
export const DEFAULT_MAX_BYTES = 1 << 30;

export interface VerifyOptions {
  /** The pinned keys (or the ones a followed key set named). */
  trustedKeys: readonly PublicKey[];
  /** The feed the consumer follows; an artifact of another feed is refused. */
  feed: string;
  /** The version of the consumer's current state; `null` when it holds none yet. */
  appliedVersion: number | null;
  /** Milliseconds since the Unix epoch. */
  now: number;
  maxBytes?: number;
  /**
   * SHA-256 of the payload. Default: WebCrypto's digest, which copies its input first; a Node consumer of
   * a large payload gives a hash that reads the bytes in place.
   */
  digest?: PayloadDigest;
}

/** Computes the SHA-256 of a payload (32 bytes). */
export type PayloadDigest = (payload: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/**
 * Checks an artifact against every rule that does not need the resulting state; on success the
 * manifest and payload can be trusted. A snapshot (or key set) is accepted at any version above the
 * applied one; a delta only from exactly the applied one.
 */
export async function verifyArtifact(
  bytes: Uint8Array,
  options: VerifyOptions,
): Promise<Result<DecodedArtifact>> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes)
    return fail('too_large', `artifact of ${bytes.length} bytes exceeds the ${maxBytes} limit`);
  const decoded = decodeArtifact(bytes);
  if (!decoded.ok) return decoded;
  const { manifest, signedBytes, signature, payload } = decoded.value;
  const key = options.trustedKeys.find((k) => k.id === manifest.keyId);
  if (!key) return fail('untrusted_key', `artifact signed by key ${manifest.keyId}, which is not trusted`);
  if (!(await verifySignature(key, signature, signedBytes))) {
    return fail('bad_signature', `signature does not verify with key ${manifest.keyId}`);
  }
  const rule = versionRule(manifest, options);
  if (rule) return rule;
  if (payload.length !== manifest.payloadLength) {
    return fail(
      'payload_length',
      `payload of ${payload.length} bytes, manifest says ${manifest.payloadLength}`,
    );
  }
  const digest = await (options.digest ?? sha256)(payload);
  if (!equalBytes(digest, fromHex(manifest.payloadSha256) as Uint8Array)) {
    return fail('payload_digest', `payload SHA-256 differs from ${manifest.payloadSha256}`);
  }
  return decoded;
}

function versionRule(m: Manifest, options: VerifyOptions): Result<never> | undefined {
  const applied = options.appliedVersion;
  const what = `${m.kind} ${m.from}->${m.to}`;
  if (m.feed !== options.feed)
    return fail('wrong_feed', `${what} of feed "${m.feed}", expected "${options.feed}"`);
  if (applied !== null && m.to <= applied)
    return fail('rollback', `${what} does not go past version ${applied}`);
  if (m.kind === 'delta' && m.from !== applied) {
    return fail('gap', `${what} does not start at the applied version ${applied ?? '(none)'}`);
  }
  if (options.now > m.expiresAt) {
    return fail('expired', `${what} expired at ${new Date(m.expiresAt).toISOString()}`);
  }
  return undefined;
}

/**
 * The part of a state the manifest vouches for. A state that keeps no member set (a lean filter state)
 * has no checksum and is checked by its entry count only.
 */
export interface CheckableState {
  readonly entryCount: number;
  checksum?: () => Promise<string>;
}

/** After applying: the new state must be the one the manifest names, else resync from a snapshot. */
export async function verifyResultingState(manifest: Manifest, state: CheckableState): Promise<Result<void>> {
  if (state.entryCount !== manifest.entryCount) {
    return fail(
      'entry_count_mismatch',
      `state has ${state.entryCount} entries, manifest says ${manifest.entryCount}`,
    );
  }
  const checksum = state.checksum ? await state.checksum() : manifest.checksum;
  if (checksum !== manifest.checksum) {
    return fail('checksum_mismatch', `state checksum ${checksum}, manifest says ${manifest.checksum}`);
  }
  return ok(undefined);
}
