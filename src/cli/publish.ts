import { join, resolve } from 'node:path';
import { DirectoryArtifactStore } from '../feeds/directory-artifact-store.ts';
import { FeedService } from '../feeds/feed-service.ts';
import { hubConfigFromEnv, loadHubConfig } from '../hub/config.ts';
import { publishLog } from '../hub/log-publisher.ts';
import { loadSigningKey } from '../hub/signing-key.ts';
import { checkpointSource } from '../registry/checkpoints.ts';
import { openRegistry } from '../registry/registry.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

export const publish: Command = {
  name: 'publish',
  summary:
    'write a static mirror of the feeds (latest snapshots, delta chain, index.json) and of the transparency ' +
    'log (C2SP tiles under log/) for any web server or CDN',
  usage: 'publish --out DIR [--data ./data]',
  async run(argv) {
    const { values } = parseFlags(argv, { out: { type: 'string' }, data: { type: 'string' } });
    if (!values.out) throw new UsageError('--out DIR is required');
    const config = loadHubConfig({
      ...hubConfigFromEnv(process.env),
      ...(values.data !== undefined && { dataDir: values.data }),
    });
    // Opening the registry read-write creates and migrates it, which the feeds' read-only connections need.
    const registry = openRegistry(config.dbPath, { confidentialCategories: config.confidential });
    const signingKey = await loadSigningKey(config.keysDir, config.signingKey);
    const checkpoint = checkpointSource(registry, signingKey, config.logOrigin);
    const feeds = new FeedService({
      databasePath: config.dbPath,
      signingKey,
      store: new DirectoryArtifactStore(join(config.dataDir, 'artifacts')),
      confidentialCategories: config.confidential,
      filterFpr: config.filterFpr,
      checkpoint: async (version) => (await checkpoint(version))?.note ?? '',
    });
    await feeds.start();
    try {
      const out = resolve(values.out);
      const version = await feeds.publishStatic(out);
      console.log(`published feeds at version ${version} to ${out}`);
      const log = await publishLog(registry, checkpoint, out);
      if (log)
        console.log(
          `published the log (${log.treeSize} leaves, version ${log.version}) to ${join(out, 'log')}`,
        );
      return 0;
    } finally {
      await feeds.stop();
      registry.close();
    }
  },
};
