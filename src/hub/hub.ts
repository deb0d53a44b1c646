import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from '../api/app.ts';
import type { AppDeps } from '../api/deps.ts';
import { consoleRoutes } from '../console/routes.tsx';
import { exportPublicKey, type PublicKey, type SigningKey } from '../core/keys.ts';
import { type ServedZone, serveZone } from '../dns/zone-feed.ts';
import { DirectoryArtifactStore } from '../feeds/directory-artifact-store.ts';
import { FeedService } from '../feeds/feed-service.ts';
import { checkpointSource } from '../registry/checkpoints.ts';
import { corruptionMessage, RegistryCorruptError } from '../registry/integrity.ts';
import { openRegistry, type Registry } from '../registry/registry.ts';
import { RegistryThreads } from '../registry/registry-threads.ts';
import { resolveRenderOptions } from '../render/options.ts';
import { type JsonLog, jsonLog } from '../util/json-log.ts';
import { Metrics } from '../util/prometheus.ts';
import { markCleanStop, takeCleanStop } from './clean-stop.ts';
import type { HubConfig } from './config.ts';
import { ExpiryTimer } from './expiry-timer.ts';
import { IntegrityMonitor, integrityCheckInWorker } from './integrity-monitor.ts';
import { loadKeySet } from './key-rotation.ts';
import { loadSigningKey } from './signing-key.ts';

export interface Hub {
  registry: Registry;
  signingKey: SigningKey;
  feeds: FeedService;
  /** The periodic integrity check of the registry file; `checkNow()` runs one at once. */
  integrity: IntegrityMonitor;
  app: ReturnType<typeof createApp>;
  /** Settles when the feeds have scanned the registry and can serve snapshots and deltas. */
  feedsStarted: Promise<void>;
  /** The admin token created on this start (first start only), to print once. */
  firstAdminToken: string | null;
  close(): Promise<void>;
}

export interface RunningHub extends Hub {
  url: string;
  port: number;
  /** Where the RPZ zone is served over DNS, when `rpzPort` is configured. */
  rpz: { host: string; port: number } | null;
}

/**
 * Builds every service of the hub in one place: registry, signing key, metrics, expiry timer, the HTTP app.
 * Handlers and services get what they need from here; nothing else reads configuration.
 */
export async function createHub(config: HubConfig, log: JsonLog = jsonLog()): Promise<Hub> {
  // A damaged file must stop the hub here: served, it would look healthy until an audit fails.
  // Worker threads open their own connection with the same settings (large orders and revokes, expiries).
  const registryThreadOptions = {
    confidentialCategories: config.confidential,
    timeZone: config.timeZone,
    fourEyes: {
      maxTargets: config.approvalMaxTargets,
      maxSubdomainEntries: config.approvalMaxSubdomains,
      pendingTtlHours: config.approvalTtlHours,
      popularDomainsFile: config.popularDomainsFile ?? null,
    },
    ...(config.maxRegistryMiB !== undefined && { maxSizeMiB: config.maxRegistryMiB }),
  };
  // Read before the registry is opened, which touches its WAL.
  const cleanStop = takeCleanStop(config.dbPath);
  const registry = openRegistry(config.dbPath, registryThreadOptions);
  // `PRAGMA quick_check` reads every page: many seconds at 10M entries. Unless the file is as this hub's last
  // clean stop left it (then nothing wrote it since the hub ran its periodic checks on it), it runs in a worker
  // thread while the hub builds its services and its feeds start, and the hub listens only once it found the
  // file sound.
  const quickCheck = cleanStop ? null : integrityCheckInWorker(config.dbPath, 'quick_check');
  quickCheck?.catch(() => undefined);
  try {
    const signingKey = await loadSigningKey(config.keysDir, config.signingKey);
    const checkpoint = checkpointSource(registry, signingKey, config.logOrigin);
    const keySet = await loadKeySet(config.keysDir);
    const firstAdminToken = ensureAdminToken(registry, config.adminToken);
    const metrics = new Metrics();
    metrics.gauge('takedown_registry_version', 'Current registry version', () => registry.currentVersion());

    const listeners: Array<(version: number) => void> = [];
    const committed = (version: number) => {
      for (const listener of listeners) listener(version);
    };
    const threads = new RegistryThreads(config.dbPath, registryThreadOptions);
    const expiry = new ExpiryTimer(
      {
        nextExpiry: () => registry.nextExpiry(),
        expireDue: async (now) => {
          const outcome = await threads.expireDue(now);
          if (outcome)
            log('orders_expired', {
              orders: outcome.orders.join(','),
              version: outcome.version,
              actor: 'expiry',
            });
          return outcome;
        },
      },
      committed,
    );
    const feeds = new FeedService({
      databasePath: config.dbPath,
      signingKey,
      store: new DirectoryArtifactStore(join(config.dataDir, 'artifacts')),
      confidentialCategories: config.confidential,
      filterFpr: config.filterFpr,
      ...(config.snapshotSeconds !== undefined && { snapshotAfterMs: config.snapshotSeconds * 1000 }),
      checkpoint: async (version) => (await checkpoint(version))?.note ?? '',
      logOrigin: config.logOrigin,
    });
    listeners.push(
      () => expiry.arm(),
      (version) => feeds.committed(version),
    );

    const appDeps: AppDeps = {
      registry,
      authenticate: (token) => registry.authenticate(token),
      metrics,
      committed,
      publicKeys: () => publicKeys(signingKey, keySet?.keys ?? []),
      keySet: async (version) =>
        version === undefined
          ? (keySet?.bytes ?? null)
          : ((await loadKeySet(config.keysDir, version))?.bytes ?? null),
      ready: () => feeds.ready(),
      confidentialCategories: config.confidential,
      bodyLimit: config.bodyLimit,
      feeds,
      log,
      checkpoint,
      threads,
      console: {
        sessionMinutes: config.consoleSessionMinutes,
        lagDeadlineSeconds: config.lagDeadlineSeconds,
      },
    };
    const app = createApp(appDeps);
    // The console sits beside the API, over the same dependencies (docs/ARCHITECTURE.md: console).
    app.route('/console', consoleRoutes(appDeps));
    const integrity = new IntegrityMonitor(
      config.dbPath,
      config.integrityCheckSeconds * 1000,
      (problems) => {
        registry.markCorrupt(problems.join('; '));
        log(
          'registry_corrupt',
          { message: corruptionMessage(config.dbPath, 'integrity_check', problems) },
          'error',
        );
      },
      (error) => log('integrity_check_failed', { message: error.message }, 'warn'),
    );
    // The API serves writes at once; feed routes answer "not ready" until the first scan is done.
    const feedsStarted = feeds.start().catch((err: Error) => {
      log('feeds_failed', { message: err.message }, 'error');
      throw err;
    });
    feedsStarted.catch(() => undefined);
    const problems = (await quickCheck) ?? [];
    if (problems.length > 0) {
      await feedsStarted.catch(() => undefined);
      await feeds.stop();
      throw new RegistryCorruptError(corruptionMessage(config.dbPath, 'quick_check', problems));
    }
    integrity.start();
    expiry.arm();
    return {
      registry,
      signingKey,
      feeds,
      integrity,
      app,
      feedsStarted,
      firstAdminToken,
      async close() {
        // First, so that a sweep waiting behind a scan in the whole-list queue gives up rather than outlasting it.
        threads.stop();
        await expiry.stop();
        await integrity.stop();
        await feedsStarted.catch(() => undefined);
        await feeds.stop();
        registry.close();
        // A registry found damaged while this hub ran is checked again, before listening, at the next start.
        if (registry.corruption() === null) await markCleanStop(config.dbPath);
      },
    };
  } catch (err) {
    registry.close();
    throw err;
  }
}

/** The signing key first, then the other keys of the latest key set (the one being retired). */
function publicKeys(signingKey: SigningKey, keySet: readonly PublicKey[]) {
  const keys = [signingKey.publicKey, ...keySet.filter((k) => k.id !== signingKey.id)];
  return keys.map((k) => ({ id: k.id, publicKey: exportPublicKey(k) }));
}

/** On a registry without any token, creates the first admin token (given or random) and returns its text. */
function ensureAdminToken(registry: Registry, given: string | undefined): string | null {
  if (registry.listTokens().length > 0) return null;
  const created = registry.createToken('admin', 'first-admin', given);
  if (!created.ok) throw new Error(`cannot create the first admin token: ${created.error.message}`);
  return created.value.token;
}

/**
 * The `dns` feed served as the RPZ policy zone over DNS, for ISPs that pull straight from the regulator:
 * the same module the sync agent mounts on its verified state, here following the hub's feed mirror.
 */
async function serveHubZone(feeds: FeedService, config: HubConfig, log: JsonLog): Promise<ServedZone> {
  const zone = await serveZone({
    host: config.host,
    port: config.rpzPort ?? 0,
    render: resolveRenderOptions({}),
    notify: config.rpzNotify,
    tsigKeys: config.rpzTsig,
    ...(config.rpzAllow.length > 0 && { allowTransfer: config.rpzAllow }),
    ...(config.rpzPieceRecords !== undefined && { pieceRecords: config.rpzPieceRecords }),
    // Transfers and NOTIFYs are routine; refusals and errors are what an operator must see.
    log: (event) => {
      if (event.event !== 'transfer' && event.event !== 'notify') {
        const level = event.event === 'error' ? 'error' : 'warn';
        log(`rpz_${event.event}`, { message: event.message, client: event.client }, level);
      }
    },
  });
  feeds.onDnsVersion((version, state, changes) => zone.publish(version, state, changes));
  return zone;
}

/** Creates the hub and serves its API on `config.host:config.port` (port 0 picks a free one). */
export async function startHub(config: HubConfig, log: JsonLog = jsonLog()): Promise<RunningHub> {
  const hub = await createHub(config, log);
  // Plain HTTP/1.1 (no createServer option), so the server is an http.Server.
  const server = await new Promise<HttpServer>((resolve, reject) => {
    const s = serve({ fetch: hub.app.fetch, hostname: config.host, port: config.port }, () =>
      resolve(s as HttpServer),
    );
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const zone = config.rpzPort === undefined ? null : await serveHubZone(hub.feeds, config, log);
  return {
    ...hub,
    port,
    rpz: zone?.address ?? null,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async close() {
      // Stop taking requests, answer the waiting long-polls, then give in-flight requests a grace period:
      // keep-alive connections of polling agents would otherwise hold the process open indefinitely.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await hub.feeds.stop();
      const grace = setTimeout(() => server.closeAllConnections(), 2000);
      await closed;
      clearTimeout(grace);
      await zone?.close();
      await hub.close();
    },
  };
}
