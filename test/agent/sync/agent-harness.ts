import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncAgent } from '../../../src/agent/sync/sync-agent.ts';
import { resolveSyncConfig, type SyncConfig } from '../../../src/agent/sync/sync-config.ts';
import { exportPublicKey, type PublicKey } from '../../../src/core/keys.ts';
import { goldenKey } from '../../core/feed-fixtures.ts';
import { FakeHub } from './fake-hub.ts';

// An agent in-process against a fake hub, in a temporary directory: `out/` for outputs, `state/`.

export interface LogLine {
  level: string;
  event: string;
  [field: string]: unknown;
}

export interface Harness {
  dir: string;
  hub: FakeHub;
  keyFile: string;
  pinned: PublicKey[];
  rpzPath: string;
  hostsPath: string;
  logs: LogLine[];
  config(flags?: Record<string, unknown>): SyncConfig;
  open(flags?: Record<string, unknown>): Promise<SyncAgent>;
  /** Every file under `out/` and `state/` with its content: to compare before and after. */
  disk(): Promise<Record<string, string>>;
  events(event: string): LogLine[];
  close(): Promise<void>;
}

export async function harness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'takedown-sync-'));
  await mkdir(join(dir, 'out'));
  const key = await goldenKey();
  const hub = new FakeHub(key);
  await hub.listen();
  const keyFile = join(dir, 'hub.pub');
  await writeFile(keyFile, `${exportPublicKey(key.publicKey)}\n`);
  const rpzPath = join(dir, 'out', 'takedown.rpz');
  const hostsPath = join(dir, 'out', 'hosts');
  const logs: LogLine[] = [];
  const config = (flags: Record<string, unknown> = {}) =>
    resolveSyncConfig({
      flags: {
        hub: hub.url,
        token: 'tdk_test',
        feed: 'dns',
        key: keyFile,
        state: join(dir, 'state'),
        output: [`rpz=${rpzPath}`, `hosts=${hostsPath}`],
        ...flags,
      },
      env: {},
    });
  return {
    dir,
    hub,
    keyFile,
    pinned: [key.publicKey],
    rpzPath,
    hostsPath,
    logs,
    config,
    open: (flags) =>
      SyncAgent.open({
        config: config(flags),
        pinned: [key.publicKey],
        log: (level, event, fields) => logs.push({ level, event, ...fields }),
      }),
    async disk() {
      const files: Record<string, string> = {};
      for (const sub of ['out', 'state']) {
        const names = await readdir(join(dir, sub)).catch(() => [] as string[]);
        for (const name of names.sort())
          files[`${sub}/${name}`] = await readFile(join(dir, sub, name), 'utf8');
      }
      return files;
    },
    events: (event) => logs.filter((line) => line.event === event),
    async close() {
      await hub.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` every 20 ms until it returns true; throws after `ms`. */
export async function until(
  probe: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
