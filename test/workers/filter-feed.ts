/**
 * Signed `filter` artifacts for the edge tests, built with the real encoders (Web standards only, so the
 * same helper serves the workerd tests and the Node end-to-end test).
 */
import { encodeArtifact, type ManifestInput } from '../../src/core/artifact.ts';
import type { KeyWidths } from '../../src/core/confirm.ts';
import { keyCount, keySetChecksum, keysOf } from '../../src/core/filter-keys.ts';
import { encodeFilterDelta, encodeFilterSnapshot } from '../../src/core/filter-payload.ts';
import type { SigningKey } from '../../src/core/keys.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** Key widths of the test feeds unless given: deltas apply only to a state of the same widths. */
const BITS: KeyWidths = { root: 40, path: 40 };

export interface Dates {
  createdAt?: number;
  expiresAt?: number;
}

/** A `filter` feed signed by `key` whose versions the caller defines as sets of expressions. */
export class TestFilterFeed {
  /** The checkpoint each artifact carries (none unless set, as before the transparency log). */
  checkpoint: ((version: number) => Promise<string>) | undefined;

  constructor(
    private readonly key: SigningKey,
    /** The clock the artifacts are dated by, unless a call gives dates. */
    private readonly now: () => number = Date.now,
    /** The key widths, which must be those of the snapshot the deltas apply to. */
    private readonly bits = BITS,
  ) {}

  async snapshot(version: number, expressions: readonly string[], dates: Dates = {}): Promise<Uint8Array> {
    const s = await encodeFilterSnapshot(expressions, { fpr: 1e-6, bits: this.bits });
    return encodeArtifact(
      await this.manifest('snapshot', 0, version, s.entryCount, s.checksum, dates),
      s.payload,
      this.key,
    );
  }

  async delta(
    from: number,
    before: readonly string[],
    to: number,
    after: readonly string[],
    dates: Dates = {},
  ): Promise<Uint8Array> {
    const keys = keysOf(after, this.bits);
    const added = after.filter((e) => !before.includes(e));
    const removed = before.filter((e) => !after.includes(e));
    const payload = encodeFilterDelta(added, removed, this.bits, keys);
    const manifest = await this.manifest(
      'delta',
      from,
      to,
      keyCount(keys),
      await keySetChecksum(keys),
      dates,
    );
    return encodeArtifact(manifest, payload, this.key);
  }

  private async manifest(
    kind: 'snapshot' | 'delta',
    from: number,
    to: number,
    entryCount: number,
    checksum: string,
    dates: Dates,
  ): Promise<ManifestInput> {
    const createdAt = dates.createdAt ?? this.now();
    const expiresAt = dates.expiresAt ?? createdAt + DAY;
    const checkpoint = (await this.checkpoint?.(to)) ?? '';
    return { kind, feed: 'filter', from, to, createdAt, expiresAt, entryCount, checksum, checkpoint };
  }
}

/** A copy of `bytes` with one payload byte flipped: the signature still verifies, the digest does not. */
export function tamperPayload(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0x01;
  return copy;
}
