import type { CheckpointSource } from '../core/checkpoint.ts';
import type { Category } from '../core/types.ts';
import type { FeedService } from '../feeds/feed-service.ts';
import type { Registry } from '../registry/registry.ts';
import type { RegistryThreads } from '../registry/registry-threads.ts';
import type { JsonLog } from '../util/json-log.ts';
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
  /**
   * Categories kept out of the plain feeds: `explain` and `check` tell a distributor only that such a target
   * is blocked, and dry runs show which feeds would carry a target.
   */
  confidentialCategories: readonly Category[];
  /** Signed checkpoints of the transparency log, per version. */
  checkpoint?: CheckpointSource;
  /** Largest request body in bytes. */
  bodyLimit: number;
  /**
   * Runs whole-list registry work (the chain audit, large revokes) in worker threads; without it (a
   * registry in memory) that work runs inline.
   */
  threads?: RegistryThreads;
  /** The signed feeds served under `/v1/feeds`. */
  feeds: FeedService;
  /** The console's settings (`/console`). */
  console?: { sessionMinutes: number; lagDeadlineSeconds: number };
  /** Structured log: one line per request, per write and per agent report (default: none). */
  log?: JsonLog;
}
