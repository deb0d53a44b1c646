import type { Category } from '../core/types.ts';
import type { FeedService } from '../feeds/feed-service.ts';
import type { Registry } from '../registry/registry.ts';
import type { RegistryThreads } from '../registry/registry-threads.ts';
import type { Metrics } from '../util/prometheus.ts';
import type { Authenticate } from './auth.ts';

/** Everything the HTTP edge needs, composed once by the hub (handlers never read the environment). */
export interface AppDeps {
  registry: Registry;
  authenticate: Authenticate;
  metrics: Metrics;
  /** Called after every committed write so feeds and long-pollers see the version at once. */
  committed(version: number): void;
  /** Public signing keys as `GET /v1/keys` lists them. */
  publicKeys(): Array<{ id: string; publicKey: string }>;
  /** The latest key-set artifact (key rotation), or the one of `version`; null when there is none. */
  keySet(version?: number): Promise<Uint8Array | null>;
  /** False until the hub has what consumers need (keys, first snapshots). */
  ready(): boolean;
  /** Categories published only in the hashed filter feed (csam by default). */
  confidential?: readonly Category[];
  /** Largest request body in bytes. */
  bodyLimit: number;
  /**
   * Runs whole-list registry work (the chain audit, large revokes) in worker threads; without it (a
   * registry in memory) that work runs inline.
   */
  threads?: RegistryThreads;
  /** The signed feeds served under `/v1/feeds`. */
  feeds: FeedService;
}
