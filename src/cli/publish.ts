import { join, resolve } from 'node:path';
import { DirectoryArtifactStore } from '../feeds/directory-artifact-store.ts';
import { FeedService } from '../feeds/feed-service.ts';
import { hubConfigFromEnv, loadHubConfig } from '../hub/config.ts';
import { loadSigningKey } from '../hub/signing-key.ts';
import { openRegistry } from '../registry/registry.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

export const publish: Command = {
  name: 'publish',
  summary:
    'write a static mirror of the feeds (latest snapshots, delta chain, index.json) for any web server or CDN',
  usage: 'publish --out DIR [--data ./data]',
  async run(argv) {
    const { values } = parseFlags(argv, { out: { type: 'string' }, data: { type: 'string' } });
    if (!values.out) throw new UsageError('--out DIR is required');
    const config = loadHubConfig({
      ...hubConfigFromEnv(process.env),
      ...(values.data !== undefined && { dataDir: values.data }),
    });
    // Opening the registry read-write creates and migrates it, which the feeds' read-only connections need.
    openRegistry(config.dbPath).close();
    const feeds = new FeedService({
      databasePath: config.dbPath,
      signingKey: await loadSigningKey(config.keysDir, config.signingKey),
      store: new DirectoryArtifactStore(join(config.dataDir, 'artifacts')),
      confidentialCategories: config.confidential,
      filterFpr: config.filterFpr,
    });
    await feeds.start();
    try {
      const version = await feeds.publishStatic(resolve(values.out));
      console.log(`published feeds at version ${version} to ${resolve(values.out)}`);
      return 0;
    } finally {
      await feeds.stop();
    }
  },
};
