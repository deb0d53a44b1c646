/** A registry on a temporary SQLite file with a started FeedService: the smallest hub the feed tests need. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, type SigningKey } from '../../src/core/keys.ts';
import type { Action, Category, FeedEntry } from '../../src/core/types.ts';
import type { ArtifactStore } from '../../src/feeds/artifact-store.ts';
import { DirectoryArtifactStore } from '../../src/feeds/directory-artifact-store.ts';
import { FeedService } from '../../src/feeds/feed-service.ts';
import type { FeedServiceOptions } from '../../src/feeds/feed-service-options.ts';
import { openRegistry, type Registry } from '../../src/registry/registry.ts';

export interface TestHubOptions {
  /** Reuse a data directory (a restart); default a new temporary one. */
  dir?: string;
  key?: SigningKey;
  store?: ArtifactStore;
  options?: Partial<FeedServiceOptions>;
}

export interface TestHub {
  dir: string;
  registry: Registry;
  key: SigningKey;
  store: ArtifactStore;
  service: FeedService;
  /** Background failures reported through onError. */
  errors: Error[];
  /** Commits an order and waits until the feeds show its version; returns the order id and version. */
  order(category: Category, targets: string[], action?: Action): Promise<{ id: number; version: number }>;
  /** Revokes an order and waits until the feeds show the new version. */
  revoke(id: number): Promise<number>;
  /** The active entries now (what every feed derives from). */
  entries(): FeedEntry[];
  close(): Promise<void>;
}

let references = 0;

export async function openTestHub(options: TestHubOptions = {}): Promise<TestHub> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'takedown-feeds-')));
  const databasePath = join(dir, 'takedown.db');
  const registry = openRegistry(databasePath, { protectedDomains: [] });
  const key = options.key ?? (await generateSigningKey());
  const store = options.store ?? new DirectoryArtifactStore(join(dir, 'artifacts'));
  const errors: Error[] = [];
  const service = new FeedService({
    databasePath,
    signingKey: key,
    store,
    pollMs: 50,
    snapshotAfterChanges: 1_000_000,
    snapshotAfterMs: 3_600_000,
    onError: (error) => errors.push(error),
    ...options.options,
  });
  await service.start();

  const visible = async (version: number) => {
    service.committed(version);
    const seen = await service.waitForVersion(version - 1, 10_000);
    if (seen === null || seen < version) throw new Error(`version ${version} not visible (feeds at ${seen})`);
    return version;
  };
  return {
    dir,
    registry,
    key,
    store,
    service,
    errors,
    async order(category, targets, action) {
      const reference = `T-${++references}`;
      const created = registry.createOrder(
        { reference, authority: 'Test Authority', category, action, targets },
        'test',
      );
      if (!created.ok) throw new Error(created.error.message);
      return { id: created.value.order.id, version: await visible(created.value.version) };
    },
    async revoke(id) {
      const revoked = registry.revokeOrder(id, 'test', 'test');
      if (!revoked.ok) throw new Error(revoked.error.message);
      return visible(revoked.value.version);
    },
    entries: () => [...registry.activeEntries()],
    async close() {
      await service.stop();
      registry.close();
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Changes one payload byte of the stored artifact `key` in place (its manifest no longer matches it). */
export async function damageStored(store: ArtifactStore, key: string): Promise<void> {
  const bytes = (await store.get(key)) as Uint8Array;
  bytes[bytes.length - 3] = 0x7a;
  await store.delete(key);
  await store.put(key, bytes);
}
