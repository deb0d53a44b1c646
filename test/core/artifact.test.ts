import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ArtifactError,
  decodeArtifact,
  encodeArtifact,
  FORMAT_VERSION,
  type ManifestInput,
  MIN_PAYLOAD_OFFSET,
  payloadOffsetOf,
  signedLengthOf,
} from '../../src/core/artifact.ts';
import { equalBytes, sha256Hex, toHex } from '../../src/core/bytes.ts';
import { DEFAULT_BLOOM_FPR } from '../../src/core/confirm.ts';
import { createFeedConsumer } from '../../src/core/consumer.ts';
import { keyCount, keySetChecksum, keysOf } from '../../src/core/filter-keys.ts';
import { encodeFilterDelta, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { generateSigningKey } from '../../src/core/keys.ts';
import { encodeKeySet } from '../../src/core/keyset.ts';
import { verifyArtifact } from '../../src/core/verify.ts';
import {
  checkpointOf,
  DAY,
  deltaArtifact,
  GOLDEN_DIR,
  goldenKey,
  HOUR,
  snapshotArtifact,
  stateAt,
  T0,
} from './feed-fixtures.ts';

/** The expressions of the `url` feed at `version`, as the `filter` feed hashes them. */
const filterExpressions = (version: number) => [...stateAt(version).entries()].map((e) => e.expression);

/** A signed `filter` snapshot of version 1 or delta 1 -> 3 (filter payload format 3). */
async function filterArtifact(kind: 'snapshot' | 'delta'): Promise<Uint8Array> {
  const key = await goldenKey();
  const snapshot = await encodeFilterSnapshot(filterExpressions(1), { fpr: DEFAULT_BLOOM_FPR });
  const after = keysOf(filterExpressions(3), snapshot.bits);
  const before = new Set(filterExpressions(1));
  const later = new Set(filterExpressions(3));
  const payload =
    kind === 'snapshot'
      ? snapshot.payload
      : encodeFilterDelta(
          filterExpressions(3).filter((e) => !before.has(e)),
          filterExpressions(1).filter((e) => !later.has(e)),
          snapshot.bits,
          after,
        );
  const to = kind === 'snapshot' ? 1 : 3;
  const manifest: ManifestInput = {
    kind,
    feed: 'filter',
    from: kind === 'snapshot' ? 0 : 1,
    to,
    createdAt: T0 + to * HOUR,
    expiresAt: T0 + to * HOUR + DAY,
    entryCount: kind === 'snapshot' ? snapshot.entryCount : keyCount(after),
    checksum: kind === 'snapshot' ? snapshot.checksum : await keySetChecksum(after),
    checkpoint: await checkpointOf(to, key),
  };
  return encodeArtifact(manifest, payload, key);
}

const GOLDENS: Record<string, () => Promise<Uint8Array>> = {
  'filter-snapshot-1.artifact': () => filterArtifact('snapshot'),
  'filter-delta-1-3.artifact': () => filterArtifact('delta'),
  'url-snapshot-3.artifact': async () => snapshotArtifact(3, await goldenKey()),
  'url-delta-1-3.artifact': async () => deltaArtifact(1, 3, await goldenKey()),
  'url-delta-1-3-no-checkpoint.artifact': async () =>
    deltaArtifact(1, 3, await goldenKey(), { noCheckpoint: true }),
  'keyset-1.artifact': async () => {
    const key = await goldenKey();
    return encodeKeySet({ keys: [key.publicKey], version: 1, createdAt: T0, expiresAt: T0 + 30 * DAY }, key);
  },
};

describe('golden artifacts', () => {
  for (const [name, build] of Object.entries(GOLDENS)) {
    it(`${name} is byte-identical to the committed file`, async () => {
      const bytes = await build();
      const file = new URL(name, GOLDEN_DIR);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, bytes);
      const committed = new Uint8Array(readFileSync(file));
      if (!equalBytes(bytes, committed)) {
        expect.fail(
          `${name}: bytes changed: bump FORMAT_VERSION and regenerate goldens ` +
            '(UPDATE_GOLDEN=1 npx vitest run test/core/artifact.test.ts)',
        );
      }
      expect(decodeArtifact(committed)).toMatchObject({
        ok: true,
        value: { manifest: { formatVersion: FORMAT_VERSION } },
      });
    });
  }
});

const input = (overrides: Partial<ManifestInput> = {}): ManifestInput => ({
  kind: 'delta',
  feed: 'dns',
  from: 7,
  to: 9,
  createdAt: T0,
  expiresAt: T0 + HOUR,
  entryCount: 3,
  checksum: 'ab'.repeat(32),
  ...overrides,
});

describe('encodeArtifact / decodeArtifact', () => {
  it('round-trips the manifest and splits signed bytes, signature and payload', async () => {
    const key = await generateSigningKey();
    const payload = new TextEncoder().encode('-\tgone.example/\n');
    const checkpoint = await checkpointOf(9, key);
    const bytes = await encodeArtifact(input({ checkpoint }), payload, key);
    const checkpointBytes = new TextEncoder().encode(checkpoint).length;
    expect(bytes.length).toBe(MIN_PAYLOAD_OFFSET + checkpointBytes + payload.length);
    expect(payloadOffsetOf(bytes)).toBe(MIN_PAYLOAD_OFFSET + checkpointBytes);
    const decoded = decodeArtifact(bytes);
    if (!decoded.ok) throw new Error(decoded.error.message);
    expect(decoded.value.manifest).toEqual({
      ...input(),
      checkpoint,
      formatVersion: FORMAT_VERSION,
      payloadLength: payload.length,
      payloadSha256: await sha256Hex(payload),
      keyId: key.id,
    });
    expect(decoded.value.signedBytes).toEqual(bytes.subarray(0, 149 + checkpointBytes));
    expect(signedLengthOf(bytes)).toBe(149 + checkpointBytes);
    expect(decoded.value.signature).toHaveLength(64);
    expect(decoded.value.payload).toEqual(payload);
  });

  it('is deterministic: same inputs, same key, same bytes (Ed25519 signatures are deterministic)', async () => {
    const key = await goldenKey();
    const a = await snapshotArtifact(2, key);
    const b = await snapshotArtifact(2, await goldenKey());
    expect(toHex(a)).toBe(toHex(b));
    expect(toHex(await snapshotArtifact(2, key, { createdAt: T0 + 1 }))).not.toBe(toHex(a));
  });

  it('writes the layout of docs/FORMAT.md', async () => {
    const key = await goldenKey();
    const bytes = await snapshotArtifact(3, key);
    const view = new DataView(bytes.buffer);
    expect(toHex(bytes.subarray(0, 8))).toBe('89544b440d0a1a0a');
    expect(view.getUint16(8)).toBe(FORMAT_VERSION);
    expect(bytes[10]).toBe(1);
    expect(new TextDecoder().decode(bytes.subarray(11, 27))).toBe('url\0\0\0\0\0\0\0\0\0\0\0\0\0');
    expect([27, 35, 43, 51].map((o) => Number(view.getBigUint64(o)))).toEqual([
      0,
      3,
      T0 + 3 * HOUR,
      T0 + 3 * HOUR + DAY,
    ]);
    const checkpoint = await checkpointOf(3, key);
    const c = new TextEncoder().encode(checkpoint).length;
    expect(Number(view.getBigUint64(59))).toBe(bytes.length - (213 + c));
    expect(toHex(bytes.subarray(67, 99))).toBe(await sha256Hex(bytes.subarray(213 + c)));
    expect(Number(view.getBigUint64(99))).toBe(4);
    expect(toHex(bytes.subarray(107, 139))).toBe(await stateAt(3).checksum());
    expect(toHex(bytes.subarray(139, 147))).toBe(key.id);
    expect(view.getUint16(147)).toBe(c);
    expect(new TextDecoder().decode(bytes.subarray(149, 149 + c))).toBe(checkpoint);
  });

  it.each([
    ['a delta that does not move forward', { from: 9, to: 9 }],
    ['a snapshot that does not start at 0', { kind: 'snapshot' as const, from: 1 }],
    ['a key set outside the keys feed', { kind: 'keyset' as const, from: 0 }],
    ['a snapshot in the keys feed', { kind: 'snapshot' as const, feed: 'keys', from: 0 }],
    ['an upper-case feed name', { feed: 'DNS' }],
    ['a feed name over 16 bytes', { feed: 'a'.repeat(17) }],
    ['an empty feed name', { feed: '' }],
    ['a checksum that is not hex SHA-256', { checksum: 'AB'.repeat(32) }],
    ['an unsafe integer', { to: 2 ** 53 }],
    ['a negative time', { createdAt: -1 }],
    ['an expiry before the creation', { expiresAt: T0 - 1 }],
    ['a checkpoint that is not a signed note', { checkpoint: 'takedown\n3\n' }],
  ])('refuses to encode %s', async (_, overrides) => {
    const key = await generateSigningKey();
    await expect(encodeArtifact(input(overrides), new Uint8Array(0), key)).rejects.toThrow(ArtifactError);
  });

  it('reports structural problems as malformed or unsupported_format', async () => {
    const bytes = await snapshotArtifact(1, await goldenKey());
    const code = (b: Uint8Array) => {
      const decoded = decodeArtifact(b);
      return decoded.ok ? 'ok' : decoded.error.code;
    };
    const patched = (offset: number, value: number) => {
      const copy = bytes.slice();
      copy[offset] = value;
      return copy;
    };
    expect(code(bytes)).toBe('ok');
    expect(code(new Uint8Array(0))).toBe('malformed');
    expect(code(bytes.subarray(0, 9))).toBe('malformed');
    expect(code(patched(0, 0x50))).toBe('malformed');
    expect(code(patched(9, FORMAT_VERSION + 1))).toBe('unsupported_format');
    expect(code(patched(9, FORMAT_VERSION + 1).subarray(0, 10))).toBe('unsupported_format');
    expect(code(bytes.subarray(0, payloadOffsetOf(bytes) - 1))).toBe('malformed');
    expect(code(patched(10, 4))).toBe('malformed');
    expect(code(patched(10, 3))).toBe('malformed');
    expect(code(patched(15, 0x61))).toBe('malformed');
    expect(code(patched(27, 0x80))).toBe('malformed');
    expect(code(bytes.subarray(0, payloadOffsetOf(bytes)))).toBe('ok');
    expect(code(patched(149, 0x0a))).toBe('malformed');
  });

  it('refuses a checkpoint of another version than the artifact leads to', async () => {
    const key = await generateSigningKey();
    const other = await checkpointOf(8, key);
    await expect(encodeArtifact(input({ checkpoint: other }), new Uint8Array(0), key)).rejects.toThrow(
      /checkpoint of version 8 in an artifact to version 9/,
    );
  });

  it('still reads and verifies format version 1 (before checkpoints), with an empty checkpoint', async () => {
    const v1 = new Uint8Array(readFileSync(new URL('url-delta-1-3.v1.artifact', GOLDEN_DIR)));
    const decoded = decodeArtifact(v1);
    expect(decoded).toMatchObject({
      ok: true,
      value: { manifest: { formatVersion: 1, checkpoint: '', to: 3 } },
    });
    expect(signedLengthOf(v1)).toBe(147);
    const key = await goldenKey();
    const verified = await verifyArtifact(v1, {
      trustedKeys: [key.publicKey],
      feed: 'url',
      appliedVersion: 1,
      now: T0 + 3 * HOUR,
    });
    expect(verified.ok).toBe(true);
  });

  it('refuses a filter artifact of a format before 4 with unsupported_format: its Bloom filter is another', async () => {
    const bytes = await filterArtifact('snapshot');
    const older = bytes.slice();
    new DataView(older.buffer).setUint16(8, 3);
    expect(decodeArtifact(older)).toMatchObject({ ok: false, error: { code: 'unsupported_format' } });
    // Plain feeds of format 3 still decode.
    const url = await snapshotArtifact(3, await goldenKey());
    const plain = url.slice();
    new DataView(plain.buffer).setUint16(8, 3);
    expect(decodeArtifact(plain).ok).toBe(true);
  });

  it('the filter goldens follow in a consumer: snapshot, then delta, landing on the checksum', async () => {
    const key = await goldenKey();
    const consumer = createFeedConsumer('filter', [key.publicKey]);
    expect(await consumer.apply(await filterArtifact('snapshot'), T0 + HOUR + 1)).toMatchObject({ ok: true });
    expect(await consumer.apply(await filterArtifact('delta'), T0 + 3 * HOUR + 1)).toMatchObject({
      ok: true,
      value: { to: 3 },
    });
    expect(consumer.state?.isBlocked(['evil.example.com/phish/'])).toBe(true);
    expect(consumer.state?.isBlocked(['bank-login.example/'])).toBe(false);
  });
});
