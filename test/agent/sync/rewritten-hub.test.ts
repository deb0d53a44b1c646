import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncAgent } from '../../../src/agent/sync/sync-agent.ts';
import { resolveSyncConfig } from '../../../src/agent/sync/sync-config.ts';
import { importPublicKey } from '../../../src/core/keys.ts';
import { type HubConfig, loadHubConfig } from '../../../src/hub/config.ts';
import { type RunningHub, startHub } from '../../../src/hub/hub.ts';
import { eventually, tempDir } from '../../helpers/hub.ts';
import type { LogLine } from './agent-harness.ts';

// A real hub whose history is rewritten behind the agent's back: the tree is rebuilt from the edited change
// rows and every checkpoint re-signed with the hub's own key, so only a consumer holding an older checkpoint
// can tell.

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function start(config: HubConfig): Promise<RunningHub> {
  const hub = await startHub(config, () => undefined);
  cleanup.push(() => hub.close());
  return hub;
}

function order(hub: RunningHub, reference: string, targets: string[]) {
  const r = hub.registry.createOrder(
    { reference, authority: 'MIC', category: 'phishing', reason: 'ruling', targets },
    'reg',
  );
  if (!r.ok) throw new Error(r.error.message);
}

/** Waits until the hub's feeds serve `version`. */
const settled = (hub: RunningHub, version: number) =>
  eventually(
    async () => (hub.feeds.ready() && hub.feeds.version === version ? true : undefined),
    `version ${version}`,
  );

/** What an attacker with the database file does: edit the history, then rebuild the log over it. */
function rewrite(dbPath: string, sql: string) {
  const db = new Database(dbPath);
  for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all()) {
    db.exec(`DROP TRIGGER "${name as string}"`);
  }
  db.exec(sql);
  // The next start back-fills the log from the rows as they are now: a self-consistent, re-signed tree.
  db.exec('DELETE FROM log_events; DELETE FROM log_heads; DELETE FROM log_tiles;');
  db.close();
}

describe('an agent holding an older checkpoint', () => {
  it.each([
    ['an old change row edited', `UPDATE changes SET expression = 'innocent.example/' WHERE seq = 2`],
    ['an old change row deleted', 'DELETE FROM changes WHERE seq = 2'],
  ])(
    'catches a hub whose history was rewritten (%s)',
    async (_, sql) => {
      const dir = await tempDir();
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const config = loadHubConfig({ dataDir: dir, port: 0 });
      let hub = await start(config);
      order(hub, 'A/1', ['a.example', 'b.example']);
      order(hub, 'A/2', ['c.example']);
      const token = hub.registry.createToken('distributor', 'isp');
      if (!token.ok) throw new Error(token.error.message);
      const keyFile = join(config.keysDir, 'signing.pub');
      const key = await importPublicKey(await readFile(keyFile, 'utf8'));
      if (!key.ok) throw new Error(key.error.message);
      const logs: LogLine[] = [];
      const open = (url: string) =>
        SyncAgent.open({
          config: resolveSyncConfig({
            flags: {
              hub: url,
              token: token.value.token,
              feed: 'dns',
              key: keyFile,
              state: join(dir, 'agent-state'),
              output: [`hosts=${join(dir, 'hosts')}`],
            },
            env: {},
          }),
          pinned: [key.value],
          log: (level, event, fields) => logs.push({ level, event, ...fields }),
        });

      const agent = await open(hub.url);
      await settled(hub, 2);
      expect(await agent.syncOnce()).toBe(true);
      expect(agent.version).toBe(2);
      const hosts = await readFile(join(dir, 'hosts'), 'utf8');
      expect(hosts).toContain('b.example');

      await hub.close();
      cleanup.pop();
      rewrite(config.dbPath, sql);
      hub = await start(config);
      order(hub, 'A/3', ['d.example']);
      await settled(hub, 3);
      // The rewritten hub is self-consistent: its own proofs between its own checkpoints verify...
      const proof = await (await fetch(`${hub.url}/v1/log/proof/consistency?from=2&to=3`)).json();
      expect(proof.proof.length).toBeGreaterThan(0);

      // ...but not from the checkpoint the agent kept in its state directory.
      const later = await open(hub.url);
      expect(await later.syncOnce()).toBe(false);
      expect(later.version).toBe(2);
      expect(logs.filter((l) => l.event === 'rejected').at(-1)).toMatchObject({
        level: 'error',
        rule: 'log_inconsistent',
        applied: 2,
      });
      expect(later.metrics.render()).toContain('takedown_sync_rejections_total{reason="log_inconsistent"} 1');
      expect(await readFile(join(dir, 'hosts'), 'utf8')).toBe(hosts);
    },
    60_000,
  );
});
