import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../src/hub/config.ts';
import { type RunningHub, startHub } from '../../src/hub/hub.ts';
import { runCli, tempDir } from '../helpers/hub.ts';

const running: Array<{ hub: RunningHub; dir: string }> = [];
afterEach(async () => {
  for (const { hub, dir } of running.splice(0)) {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** A hub on 127.0.0.1 with three versions: an order, a csam order, a revocation. */
async function hubWithHistory() {
  const dir = await tempDir();
  const config = loadHubConfig({ dataDir: dir, port: 0 });
  const hub = await startHub(config);
  running.push({ hub, dir });
  const order = (reference: string, category: 'phishing' | 'csam', targets: string[]) => {
    const r = hub.registry.createOrder(
      { reference, authority: 'MIC', category, reason: 'ruling', targets },
      'reg',
    );
    if (!r.ok) throw new Error(r.error.message);
  };
  order('A/1', 'phishing', ['a.example', 'b.example', 'c.example/x']);
  order('S/1', 'csam', ['hidden.example']);
  if (!hub.registry.revokeOrder(1, 'lifted', 'reg').ok) throw new Error('revoke failed');
  return { hub, dir, config, key: join(config.keysDir, 'signing.pub') };
}

/** Opens the hub's database as an attacker with the file would, triggers dropped. */
function tamper(dbPath: string, sql: string) {
  const db = new Database(dbPath);
  db.exec('DROP TRIGGER IF EXISTS changes_no_update; DROP TRIGGER IF EXISTS changes_no_delete;');
  db.exec(sql);
  db.close();
}

describe('takedown log verify', () => {
  it('passes on an untouched hub and on the tiles `takedown publish` wrote', async () => {
    const { hub, dir, key } = await hubWithHistory();
    // A checkpoint an ISP kept from an earlier artifact: the log must still hold that tree.
    const pinned = join(dir, 'seen-checkpoint');
    await writeFile(pinned, await (await fetch(`${hub.url}/v1/log/checkpoint?version=2`)).text());
    const ok = await runCli(['log', 'verify', '--hub', hub.url, '--key', key, '--checkpoint', pinned]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/log ok: 10 leaves, 3 checkpoints verified/);
    expect(ok.code).toBe(0);

    const out = join(dir, 'site');
    const published = await runCli(['publish', '--out', out, '--data', dir]);
    expect(published.stdout).toMatch(/published the log \(10 leaves, version 3\)/);
    const tiles = await runCli(['log', 'verify', '--tiles', join(out, 'log'), '--key', key]);
    expect(tiles.stdout).toMatch(/log ok: 10 leaves, 3 checkpoints verified/);
    expect(tiles.code).toBe(0);
  }, 60_000);

  it('names the first bad leaf when an old change row was rewritten in SQLite', async () => {
    const { hub, config, key } = await hubWithHistory();
    // Leaf 0 is order A/1's creation, leaves 1..3 its three adds: seq 2 (b.example/) is leaf 2.
    tamper(config.dbPath, `UPDATE changes SET expression = 'innocent.example/' WHERE seq = 2`);
    const r = await runCli(['log', 'verify', '--hub', hub.url, '--key', key]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/log BROKEN: first bad leaf 2: the tree of version 1 \(size 4\) has root/);
  }, 60_000);

  it('names the first bad leaf when a change row was deleted', async () => {
    const { hub, config, key } = await hubWithHistory();
    tamper(config.dbPath, 'DELETE FROM changes WHERE seq = 2');
    const r = await runCli(['log', 'verify', '--hub', hub.url, '--key', key]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/log BROKEN: first bad leaf 2: /);
  }, 60_000);

  it('refuses a log signed by another key, and a change pointing at an order the log never created', async () => {
    const { hub, config, key } = await hubWithHistory();
    const other = await tempDir();
    const keygen = await runCli(['keygen', '--out', other]);
    expect(keygen.code).toBe(0);
    const foreign = await runCli(['log', 'verify', '--hub', hub.url, '--key', join(other, 'signing.pub')]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/not signed by a trusted key/);
    await rm(other, { recursive: true, force: true });

    // The order row re-pointed: the leaves of its changes now name an order the log never created.
    tamper(config.dbPath, `UPDATE changes SET order_id = 99 WHERE seq = 1`);
    const plain = await runCli(['log', 'verify', '--hub', hub.url, '--key', key]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/first bad leaf 1: leaf 1 points at order 99, which the log never created/);
  }, 60_000);
});
