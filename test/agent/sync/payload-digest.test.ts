import { describe, expect, it } from 'vitest';
import { payloadDigest } from '../../../src/agent/sync/payload-digest.ts';
import { sha256 } from '../../../src/core/bytes.ts';
import { createFeedConsumer } from '../../../src/core/consumer.ts';
import { goldenKey, HOUR, snapshotArtifact, stateAt, T0 } from '../../core/feed-fixtures.ts';

// The agent checks payload digests with node:crypto (read in place) instead of WebCrypto (which copies):
// the same digest, and every rule still refuses what it refused.

const key = await goldenKey();
const NOW = T0 + 3 * HOUR;

describe('FeedConsumer with the sync agent payload digest', () => {
  const consumerWithDigest = () => createFeedConsumer('url', [key.publicKey], { digest: payloadDigest });

  it('computes what WebCrypto computes, on views inside a larger buffer too', async () => {
    const buffer = new Uint8Array(300).map((_, i) => (i * 37) & 0xff);
    for (const [start, end] of [
      [0, 0],
      [0, 300],
      [7, 71],
      [64, 128],
    ] as const) {
      const view = buffer.subarray(start, end);
      expect(payloadDigest(view)).toEqual(await sha256(view));
    }
  });

  it('still refuses every single-byte change of a snapshot with the same codes, and a wrong checksum', async () => {
    const snapshot = await snapshotArtifact(2, key);
    const consumer = consumerWithDigest();
    for (let offset = 0; offset < snapshot.length; offset += 3) {
      const tampered = snapshot.slice();
      tampered[offset] = (tampered[offset] as number) ^ 0x01;
      const result = await consumer.apply(tampered, NOW);
      expect(result.ok ? 'ok' : result.error.code, `offset ${offset}`).toMatch(
        /^(malformed|unsupported_format|untrusted_key|bad_signature|payload_digest)$/,
      );
      expect(consumer.version).toBeNull();
    }
    const lastByte = snapshot.slice();
    lastByte[lastByte.length - 1] = (lastByte[lastByte.length - 1] as number) ^ 0x01;
    expect(await consumer.apply(lastByte, NOW)).toMatchObject({ error: { code: 'payload_digest' } });
    const wrongChecksum = await snapshotArtifact(2, key, {
      claim: { checksum: await stateAt(1).checksum() },
    });
    expect(await consumer.apply(wrongChecksum, NOW)).toMatchObject({ error: { code: 'checksum_mismatch' } });
    expect(await consumer.apply(snapshot, NOW)).toMatchObject({ ok: true, value: { to: 2 } });
    expect(await consumer.state?.checksum()).toBe(await stateAt(2).checksum());
  });
});
