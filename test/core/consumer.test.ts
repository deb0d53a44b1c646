import { describe, expect, it } from 'vitest';
import { encodeArtifact, type ManifestInput, payloadOffsetOf } from '../../src/core/artifact.ts';
import { concatBytes, toHex } from '../../src/core/bytes.ts';
import { createFeedConsumer, type FeedConsumer } from '../../src/core/consumer.ts';
import { keyCount, keySetChecksum, keysOf } from '../../src/core/filter-keys.ts';
import { encodeFilterDelta, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import { generateSigningKey } from '../../src/core/keys.ts';
import { encodeKeySet } from '../../src/core/keyset.ts';
import type { PlainState } from '../../src/core/plain-state.ts';
import {
  DAY,
  deltaArtifact,
  goldenKey,
  HOUR,
  snapshotArtifact,
  stateAt,
  T0,
  VERSIONS,
} from './feed-fixtures.ts';

const key = await goldenKey();
const NOW = T0 + 3 * HOUR;

async function consumerAt(version: number): Promise<FeedConsumer<PlainState>> {
  const consumer = createFeedConsumer('url', [key.publicKey]);
  const applied = await consumer.apply(await snapshotArtifact(version, key), NOW);
  if (!applied.ok) throw new Error(applied.error.message);
  return consumer;
}

/** Everything observable about a consumer, to prove a refused artifact changed nothing. */
async function fingerprint(consumer: FeedConsumer<PlainState>) {
  return {
    version: consumer.version,
    expiresAt: consumer.expiresAt,
    state: consumer.state,
    checksum: await consumer.state?.checksum(),
    payload: toHex(consumer.state?.toSnapshotPayload() ?? new Uint8Array(0)),
  };
}

async function expectRefused(
  consumer: FeedConsumer<PlainState>,
  bytes: Uint8Array,
  code: string | RegExp,
  now = NOW,
) {
  const before = await fingerprint(consumer);
  const result = await consumer.apply(bytes, now);
  expect(result.ok ? 'ok' : result.error.code).toMatch(code);
  expect(await fingerprint(consumer)).toEqual(before);
}

describe('FeedConsumer', () => {
  it('starts from a snapshot and follows deltas to the state of the latest snapshot', async () => {
    const consumer = await consumerAt(1);
    expect(await consumer.apply(await deltaArtifact(1, 2, key), NOW)).toMatchObject({
      ok: true,
      value: { to: 2 },
    });
    expect(await consumer.apply(await deltaArtifact(2, 3, key), NOW)).toMatchObject({
      ok: true,
      value: { to: 3 },
    });
    const latest = await consumerAt(3);
    expect(consumer.version).toBe(3);
    expect(await consumer.state?.checksum()).toBe(await latest.state?.checksum());
    expect(consumer.state?.get('casino.example/')).toMatchObject({ category: 'fraud' });
  });

  it('lands on the checksum of the latest snapshot from any version with one delta V -> latest', async () => {
    const latest = await stateAt(3).checksum();
    for (const version of [1, 2]) {
      const consumer = await consumerAt(version);
      const result = await consumer.apply(await deltaArtifact(version, 3, key), NOW);
      expect(result).toMatchObject({ ok: true, value: { from: version, to: 3, checksum: latest } });
      expect(await consumer.state?.checksum()).toBe(latest);
    }
  });

  it('refuses every single-byte change of a delta and keeps its state', async () => {
    const consumer = await consumerAt(1);
    const delta = await deltaArtifact(1, 3, key);
    for (let offset = 0; offset < delta.length; offset++) {
      const tampered = delta.slice();
      tampered[offset] = (tampered[offset] as number) ^ 0xff;
      await expectRefused(
        consumer,
        tampered,
        /^(malformed|unsupported_format|untrusted_key|bad_signature|payload_digest)$/,
      );
    }
    expect(await consumer.apply(delta, NOW)).toMatchObject({ ok: true });
  });

  it('refuses truncated, extended and payload-swapped artifacts and keeps its state', async () => {
    const consumer = await consumerAt(1);
    const delta = await deltaArtifact(1, 3, key);
    const PAYLOAD_OFFSET = payloadOffsetOf(delta);
    for (const length of [0, 9, 60, PAYLOAD_OFFSET - 1])
      await expectRefused(consumer, delta.subarray(0, length), 'malformed');
    for (const length of [PAYLOAD_OFFSET, delta.length - 1]) {
      await expectRefused(consumer, delta.subarray(0, length), 'payload_length');
    }
    await expectRefused(consumer, concatBytes([delta, Uint8Array.of(0)]), 'payload_length');
    const other = await deltaArtifact(1, 2, key);
    const swapped = concatBytes([delta.subarray(0, PAYLOAD_OFFSET), other.subarray(payloadOffsetOf(other))]);
    await expectRefused(consumer, swapped, /^payload_(length|digest)$/);
  });

  it('refuses replays, gaps, expired, foreign-key and other-feed artifacts and keeps its state', async () => {
    const consumer = await consumerAt(2);
    await expectRefused(consumer, await snapshotArtifact(1, key), 'rollback');
    await expectRefused(consumer, await snapshotArtifact(2, key), 'rollback');
    await expectRefused(consumer, await deltaArtifact(1, 2, key), 'rollback');
    await expectRefused(consumer, await deltaArtifact(1, 3, key), 'gap');
    await expectRefused(consumer, await deltaArtifact(2, 3, key), 'expired', NOW + 2 * DAY);
    await expectRefused(consumer, await deltaArtifact(2, 3, await generateSigningKey()), 'untrusted_key');
    await expectRefused(consumer, await deltaArtifact(2, 3, key, { feed: 'dns' }), 'wrong_feed');
    await expectRefused(createFeedConsumer('url', [key.publicKey]), await deltaArtifact(2, 3, key), 'gap');
  });

  it('refuses a signed artifact whose result differs from its manifest, then resyncs from a snapshot', async () => {
    const consumer = await consumerAt(2);
    const wrongChecksum = await deltaArtifact(2, 3, key, {
      claim: { checksum: await stateAt(2).checksum() },
    });
    await expectRefused(consumer, wrongChecksum, 'checksum_mismatch');
    await expectRefused(
      consumer,
      await deltaArtifact(2, 3, key, { claim: { entryCount: 9 } }),
      'entry_count_mismatch',
    );
    expect(await consumer.apply(await snapshotArtifact(3, key), NOW)).toMatchObject({
      ok: true,
      value: { to: 3 },
    });
  });

  it('catches a local state that is not the version it claims and needs a snapshot', async () => {
    const consumer = createFeedConsumer('url', [key.publicKey], {
      resume: { version: 2, state: stateAt(1), expiresAt: NOW + DAY },
    });
    await expectRefused(
      consumer,
      await deltaArtifact(2, 3, key),
      /^(resync_required|entry_count_mismatch|checksum_mismatch)$/,
    );
    expect(await consumer.apply(await snapshotArtifact(3, key), NOW)).toMatchObject({ ok: true });
  });

  it('follows a key rotation: pinned A, key set signed by A naming B, then B-signed artifacts', async () => {
    const b = await generateSigningKey();
    const consumer = await consumerAt(1);
    await expectRefused(consumer, await deltaArtifact(1, 2, b), 'untrusted_key');
    const keySet = await encodeKeySet(
      { keys: [b.publicKey], version: 1, createdAt: T0, expiresAt: T0 + DAY },
      key,
    );
    await expectRefused(consumer, keySet, 'wrong_feed');
    expect(await consumer.followKeySet(keySet, NOW)).toMatchObject({ ok: true, value: { version: 1 } });
    expect(consumer.trust.keys.map((k) => k.id)).toEqual([b.id]);
    expect(await consumer.apply(await deltaArtifact(1, 2, b), NOW)).toMatchObject({ ok: true });
    await expectRefused(consumer, await deltaArtifact(2, 3, key), 'untrusted_key');
    // A is no longer trusted, so not even its replayed key set is.
    expect(await consumer.followKeySet(keySet, NOW)).toMatchObject({ error: { code: 'untrusted_key' } });
  });

  it('applies concurrent updates one after another', async () => {
    const consumer = await consumerAt(1);
    const [first, second] = await Promise.all([
      consumer.apply(await deltaArtifact(1, 2, key), NOW),
      consumer.apply(await deltaArtifact(2, 3, key), NOW),
    ]);
    expect([first.ok, second.ok]).toEqual([true, true]);
    expect(consumer.version).toBe(3);
  });

  it('knows whether its state is still fresh', async () => {
    const empty = createFeedConsumer('dns', [key.publicKey]);
    expect([empty.version, empty.state, empty.isFresh(NOW)]).toEqual([null, null, false]);
    const consumer = await consumerAt(3);
    expect(consumer.isFresh(NOW + DAY)).toBe(true);
    expect(consumer.isFresh(NOW + DAY + 1)).toBe(false);
  });
});

describe('FeedConsumer of the filter feed', () => {
  const expressionsAt = (version: number) => (VERSIONS[version] ?? []).map((e) => e.expression);
  const manifest = (
    kind: 'snapshot' | 'delta',
    from: number,
    to: number,
    entryCount: number,
    checksum: string,
  ) =>
    ({
      kind,
      feed: 'filter',
      from,
      to,
      createdAt: T0,
      expiresAt: T0 + DAY,
      entryCount,
      checksum,
    }) as ManifestInput;

  async function filterArtifacts() {
    const snapshot = await encodeFilterSnapshot(expressionsAt(1), { fpr: 1e-6 });
    const after = keysOf(expressionsAt(3), snapshot.bits);
    const removed = expressionsAt(1).filter((e) => !expressionsAt(3).includes(e));
    const added = expressionsAt(3).filter((e) => !expressionsAt(1).includes(e));
    return {
      snapshot: await encodeArtifact(
        manifest('snapshot', 0, 1, snapshot.entryCount, snapshot.checksum),
        snapshot.payload,
        key,
      ),
      delta: await encodeArtifact(
        manifest('delta', 1, 3, keyCount(after), await keySetChecksum(after)),
        encodeFilterDelta(added, removed, snapshot.bits, after),
        key,
      ),
      otherWidth: await encodeArtifact(
        manifest('delta', 1, 3, keyCount(after), await keySetChecksum(after)),
        encodeFilterDelta(added, removed, { ...snapshot.bits, path: snapshot.bits.path + 1 }, after),
        key,
      ),
    };
  }

  it('follows a hashed snapshot and delta with the same rules', async () => {
    const { snapshot, delta, otherWidth } = await filterArtifacts();
    const consumer = createFeedConsumer('filter', [key.publicKey]);
    expect(await consumer.apply(snapshot, NOW)).toMatchObject({ ok: true, value: { to: 1 } });
    expect(consumer.state?.isBlocked(['bank-login.example/'])).toBe(true);
    const before = consumer.state;
    expect(await consumer.apply(otherWidth, NOW)).toMatchObject({ error: { code: 'resync_required' } });
    expect(consumer.state).toBe(before);
    const tampered = delta.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    expect(await consumer.apply(tampered, NOW)).toMatchObject({ error: { code: 'payload_digest' } });
    expect(await consumer.apply(delta, NOW)).toMatchObject({ ok: true, value: { to: 3 } });
    expect(consumer.state?.isBlocked(['bank-login.example/'])).toBe(false);
    expect(consumer.state?.isBlocked(['x.example/', 'evil.example.com/phish/'])).toBe(true);
  });

  it('checks a lean state by its entry count, having no key set to checksum', async () => {
    const { snapshot, delta } = await filterArtifacts();
    const consumer = createFeedConsumer('filter', [key.publicKey], { lean: true });
    expect(await consumer.apply(snapshot, NOW)).toMatchObject({ ok: true });
    expect(await consumer.apply(delta, NOW)).toMatchObject({ ok: true, value: { to: 3 } });
    expect(consumer.state?.lean).toBe(true);
    expect(consumer.state?.isBlocked(['evil.example.com/login.php?x=1'])).toBe(true);
  });
});
