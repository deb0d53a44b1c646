import { decodeArtifact } from '../../core/artifact.ts';
import type { FeedConsumer } from '../../core/consumer.ts';
import type { HubClient } from '../../core/hub-client.ts';
import type { PublicKey } from '../../core/keys.ts';
import type { PlainState } from '../../core/plain-state.ts';
import type { Failure } from '../../core/types.ts';
import type { StateStore } from './state-store.ts';
import type { SyncLog } from './sync-log.ts';

/** Key sets are looked for at start and this often, so a rotation is followed before it is needed. */
const KEY_SET_INTERVAL_MS = 3_600_000;

export interface KeySetFollowerOptions {
  /** Null when there is no hub (a static mirror publishes no key sets: keys change in the key file). */
  client: Pick<HubClient, 'keySet'> | null;
  consumer: FeedConsumer<PlainState>;
  store: StateStore;
  /** The keys pinned in configuration, saved beside every followed set. */
  pinned: readonly PublicKey[];
  log: SyncLog;
  /** Counts and logs a key set the consumer refused. */
  reject: (error: Failure, bytes: Uint8Array) => void;
  now: () => number;
}

/** Follows the hub's key rotations: the consumer's trusted keys move only along sets signed by trusted keys. */
export class KeySetFollower {
  readonly #o: KeySetFollowerOptions;
  #checkAt = 0;

  constructor(options: KeySetFollowerOptions) {
    this.#o = options;
  }

  /** Looks for a new key set when the interval has passed since the last look; true when keys changed. */
  async check(signal: AbortSignal): Promise<boolean> {
    if (this.#o.now() < this.#checkAt) return false;
    this.#checkAt = this.#o.now() + KEY_SET_INTERVAL_MS;
    return this.follow(signal);
  }

  /**
   * Follows the hub's latest key set when a trusted key signed it; true when the trusted keys changed. A
   * latest set signed by a key not trusted yet means rotations were missed: the sets in between are
   * followed one by one first, each signed by a key the previous one introduced.
   */
  async follow(signal?: AbortSignal): Promise<boolean> {
    const { client, consumer, log, now } = this.#o;
    if (client === null) return false;
    const fetched = await client.keySet(signal);
    if (fetched.kind !== 'artifact') return false;
    let followed = await consumer.followKeySet(fetched.bytes, now());
    const latest = decodeArtifact(fetched.bytes);
    if (!followed.ok && followed.error.code === 'untrusted_key' && latest.ok) {
      for (let v = consumer.trust.version + 1; v < latest.value.manifest.to; v++) {
        const missed = await client.keySet(signal, v);
        if (missed.kind !== 'artifact') break;
        const step = await consumer.followKeySet(missed.bytes, now());
        if (!step.ok) break;
        log('info', 'keys_followed', { version: step.value.version, keys: step.value.keys.map((k) => k.id) });
      }
      followed = await consumer.followKeySet(fetched.bytes, now());
    }
    if (!followed.ok) {
      // The set already followed comes back on every check: that is not an attack.
      if (followed.error.code !== 'rollback') this.#o.reject(followed.error, fetched.bytes);
      return false;
    }
    await this.#o.store.saveTrust(this.#o.pinned, followed.value);
    log('info', 'keys_followed', {
      version: followed.value.version,
      keys: followed.value.keys.map((k) => k.id),
    });
    return true;
  }
}
