import { describe, expect, it } from 'vitest';
import { payloadOffsetOf, signedLengthOf } from '../../src/core/artifact.ts';
import { concatBytes } from '../../src/core/bytes.ts';
import { generateSigningKey, type PublicKey } from '../../src/core/keys.ts';
import {
  VERIFY_CODES,
  type VerifyOptions,
  verifyArtifact,
  verifyResultingState,
} from '../../src/core/verify.ts';
import { DAY, deltaArtifact, goldenKey, HOUR, snapshotArtifact, stateAt, T0 } from './feed-fixtures.ts';

const key = await goldenKey();
const options = (overrides: Partial<VerifyOptions> = {}): VerifyOptions => ({
  trustedKeys: [key.publicKey],
  feed: 'url',
  appliedVersion: 1,
  now: T0 + 3 * HOUR,
  ...overrides,
});
const codeOf = async (bytes: Uint8Array, overrides: Partial<VerifyOptions> = {}) => {
  const result = await verifyArtifact(bytes, options(overrides));
  return result.ok ? 'ok' : result.error.code;
};
const delta13 = await deltaArtifact(1, 3, key);
const SIGNED_BYTES = signedLengthOf(delta13);
const PAYLOAD_OFFSET = payloadOffsetOf(delta13);

/** The reason a change of the byte at `offset` must be refused for, by the field it lands in. */
function expectedCodes(offset: number, length: number): string[] {
  if (offset < 8) return ['malformed'];
  // A flipped low bit of the version can name an older format this code still reads: then the signature or
  // the older layout fails instead.
  if (offset < 10) return ['unsupported_format', 'bad_signature', 'malformed'];
  const digests = (offset >= 67 && offset < 99) || (offset >= 107 && offset < 139);
  // Other manifest fields can also turn into impossible values (unknown kind, from > to, a number
  // above 2^53, expiry before creation), which the structural check catches before the signature.
  if (offset < 139) return digests ? ['bad_signature'] : ['malformed', 'bad_signature'];
  if (offset < 147) return ['untrusted_key'];
  // The checkpoint's length moves where the signature and payload start; its text must stay a valid note.
  if (offset < 149) return ['malformed', 'bad_signature', 'payload_length', 'payload_digest'];
  if (offset < SIGNED_BYTES) return ['malformed', 'bad_signature'];
  if (offset < PAYLOAD_OFFSET) return ['bad_signature'];
  if (offset < length) return ['payload_digest'];
  return [];
}

describe('verifyArtifact', () => {
  it('accepts a good delta and a good snapshot', async () => {
    expect(await codeOf(delta13)).toBe('ok');
    expect(await codeOf(await snapshotArtifact(3, key))).toBe('ok');
    expect(await codeOf(await snapshotArtifact(3, key), { appliedVersion: null })).toBe('ok');
  });

  it('refuses every single-byte change, each for the reason of the field it hits', async () => {
    for (const mask of [0x01, 0x80, 0xff]) {
      for (let offset = 0; offset < delta13.length; offset++) {
        const tampered = delta13.slice();
        tampered[offset] = (tampered[offset] as number) ^ mask;
        const code = await codeOf(tampered);
        expect(expectedCodes(offset, delta13.length), `offset ${offset} mask ${mask}`).toContain(code);
      }
    }
  });

  it('refuses truncated and extended artifacts', async () => {
    for (const length of [0, 5, 9, 10, 100, 147, 149, SIGNED_BYTES, PAYLOAD_OFFSET - 1]) {
      expect(await codeOf(delta13.subarray(0, length)), `length ${length}`).toBe('malformed');
    }
    for (const length of [PAYLOAD_OFFSET, PAYLOAD_OFFSET + 1, delta13.length - 1]) {
      expect(await codeOf(delta13.subarray(0, length)), `length ${length}`).toBe('payload_length');
    }
    expect(await codeOf(concatBytes([delta13, Uint8Array.of(0x0a)]))).toBe('payload_length');
  });

  it('refuses the payload of another artifact behind a valid manifest', async () => {
    const other = await deltaArtifact(2, 3, key);
    const swapped = concatBytes([
      delta13.subarray(0, PAYLOAD_OFFSET),
      other.subarray(payloadOffsetOf(other)),
    ]);
    expect(await codeOf(swapped)).toMatch(/^payload_(length|digest)$/);
    const sameLength = delta13.slice();
    sameLength.set(new TextEncoder().encode('+\tevil.example/'), PAYLOAD_OFFSET + 22);
    expect(await codeOf(sameLength)).toBe('payload_digest');
  });

  it('refuses replays of older artifacts and deltas from another version', async () => {
    expect(await codeOf(delta13, { appliedVersion: 3 })).toBe('rollback');
    expect(await codeOf(delta13, { appliedVersion: 5 })).toBe('rollback');
    expect(await codeOf(await snapshotArtifact(2, key), { appliedVersion: 2 })).toBe('rollback');
    expect(await codeOf(delta13, { appliedVersion: 2 })).toBe('gap');
    expect(await codeOf(delta13, { appliedVersion: null })).toBe('gap');
    expect(await codeOf(await snapshotArtifact(3, key), { appliedVersion: 2 })).toBe('ok');
  });

  it('refuses an expired artifact (a frozen feed) but not one at its expiry instant', async () => {
    const expiresAt = T0 + 3 * HOUR + DAY;
    expect(await codeOf(delta13, { now: expiresAt })).toBe('ok');
    expect(await codeOf(delta13, { now: expiresAt + 1 })).toBe('expired');
  });

  it('refuses artifacts signed by an unknown key, even one claiming a trusted key id', async () => {
    const stranger = await generateSigningKey();
    const foreign = await deltaArtifact(1, 3, stranger);
    expect(await codeOf(foreign)).toBe('untrusted_key');
    expect(await codeOf(foreign, { trustedKeys: [] })).toBe('untrusted_key');
    const impostor = foreign.slice();
    impostor.set(delta13.subarray(139, 147), 139);
    expect(await codeOf(impostor)).toBe('bad_signature');
    const lookalike: PublicKey = { ...stranger.publicKey, id: key.id };
    expect(await codeOf(delta13, { trustedKeys: [lookalike] })).toBe('bad_signature');
  });

  it('refuses an artifact of another feed', async () => {
    expect(await codeOf(await deltaArtifact(1, 3, key, { feed: 'dns' }))).toBe('wrong_feed');
    expect(await codeOf(delta13, { feed: 'dns' })).toBe('wrong_feed');
  });

  it('refuses an artifact over the size limit before reading it', async () => {
    expect(await codeOf(delta13, { maxBytes: delta13.length - 1 })).toBe('too_large');
    expect(await codeOf(delta13, { maxBytes: delta13.length })).toBe('ok');
  });

  it('checks the resulting state against the manifest', async () => {
    const decoded = await verifyArtifact(delta13, options());
    if (!decoded.ok) throw new Error(decoded.error.message);
    const { manifest } = decoded.value;
    expect(await verifyResultingState(manifest, stateAt(3))).toEqual({ ok: true, value: undefined });
    expect(await verifyResultingState(manifest, stateAt(2))).toMatchObject({
      error: { code: 'checksum_mismatch' },
    });
    expect(await verifyResultingState(manifest, stateAt(1))).toMatchObject({
      error: { code: 'entry_count_mismatch' },
    });
  });

  it('has one distinct code per rule', () => {
    expect(new Set(VERIFY_CODES).size).toBe(VERIFY_CODES.length);
    expect(VERIFY_CODES).toHaveLength(13);
  });
});
