/**
 * Key rotation: a key set is an artifact of feed `keys`, kind `keyset`, signed by a currently trusted
 * key, whose payload lists the keys to trust from then on (typically the current and the next one).
 * Its payload is one base64 raw public key per line, sorted, each ending with LF; its `to` version
 * numbers key sets (pinned keys count as version 0) so an older set cannot be replayed.
 */
import { encodeArtifact, KEYS_FEED } from './artifact.ts';
import { sha256Hex, utf8 } from './bytes.ts';
import { exportPublicKey, importPublicKey, type PublicKey, type SigningKey } from './keys.ts';
import { fail, ok, type Result } from './types.ts';
import { verifyArtifact, verifyResultingState } from './verify.ts';

/** At most this many keys in one set: a key set names keys, it is not a directory. */
const MAX_KEYS = 16;

/** The keys a consumer trusts and the key-set version they came from (0: pinned in configuration). */
export interface KeyRing {
  version: number;
  keys: readonly PublicKey[];
}

/** The key ring of keys pinned in configuration. */
export const pinnedKeys = (keys: readonly PublicKey[]): KeyRing => ({ version: 0, keys });

/** The canonical key-set payload of `keys` (sorted, duplicates dropped). */
export function encodeKeySetPayload(keys: readonly PublicKey[]): Uint8Array {
  const lines = [...new Set(keys.map(exportPublicKey))].sort();
  return utf8(lines.map((line) => `${line}\n`).join(''));
}

/** The keys of a key-set payload; anything but the canonical form is `bad_payload`. */
export async function decodeKeySetPayload(payload: Uint8Array): Promise<Result<PublicKey[]>> {
  const text = new TextDecoder().decode(payload);
  const lines = text.split('\n');
  if (lines.pop() !== '' || lines.length === 0 || lines.length > MAX_KEYS) {
    return fail('bad_payload', `key set must hold 1 to ${MAX_KEYS} lines, each ending with LF`);
  }
  const keys: PublicKey[] = [];
  for (const [i, line] of lines.entries()) {
    if (i > 0 && (lines[i - 1] as string) >= line)
      return fail('bad_payload', `key set line ${i + 1}: not sorted`);
    const key = await importPublicKey(line);
    if (!key.ok || exportPublicKey(key.value) !== line)
      return fail('bad_payload', `key set line ${i + 1}: not a key`);
    keys.push(key.value);
  }
  return ok(keys);
}

export interface KeySetInput {
  keys: readonly PublicKey[];
  /** Above the version of the set (or 0 for the pinned keys) that consumers trust now. */
  version: number;
  createdAt: number;
  expiresAt: number;
}

/** The key-set artifact naming `input.keys`, signed by `signingKey` (a key consumers trust now). */
export async function encodeKeySet(input: KeySetInput, signingKey: SigningKey): Promise<Uint8Array> {
  const payload = encodeKeySetPayload(input.keys);
  const manifest = {
    kind: 'keyset' as const,
    feed: KEYS_FEED,
    from: 0,
    to: input.version,
    createdAt: input.createdAt,
    expiresAt: input.expiresAt,
    entryCount: new Set(input.keys.map((k) => k.id)).size,
    checksum: await sha256Hex(payload),
  };
  return encodeArtifact(manifest, payload, signingKey);
}

/**
 * The key ring a key-set artifact establishes, when a key of `trusted` signed it, it is newer than
 * `trusted.version` and every rule of {@link verifyArtifact} passes; the reason otherwise.
 */
export async function followKeySet(
  trusted: KeyRing,
  bytes: Uint8Array,
  now: number,
): Promise<Result<KeyRing>> {
  const verified = await verifyArtifact(bytes, {
    trustedKeys: trusted.keys,
    feed: KEYS_FEED,
    appliedVersion: trusted.version,
    now,
  });
  if (!verified.ok) return verified;
  const { manifest, payload } = verified.value;
  const keys = await decodeKeySetPayload(payload);
  if (!keys.ok) return keys;
  const state = { entryCount: keys.value.length, checksum: () => sha256Hex(payload) };
  const matches = await verifyResultingState(manifest, state);
  return matches.ok ? ok({ version: manifest.to, keys: keys.value }) : matches;
}
