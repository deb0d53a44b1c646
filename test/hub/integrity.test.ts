import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRegistry, type Registry } from '../../src/registry/index.ts';
import { flipTablePage } from '../helpers/corrupt.ts';
import {
  eventually,
  expectRefused,
  startHubProcess,
  type TestHub,
  tempDir,
  testApp,
} from '../helpers/hub.ts';

// A registry file damaged on disk (bytes flipped in a table page, the header intact) must never be served as
// healthy: the hub refuses to start on it, and a hub that is running finds it with its periodic check.

const ORDER = {
  reference: 'integrity-1',
  authority: 'MIC',
  category: 'phishing' as const,
  reason: 'enough rows for several pages',
};

/** 3 000 change rows, in orders small enough to publish at once (larger ones wait for a second regulator). */
function fill(registry: Registry) {
  for (let part = 0; part < 3; part++) {
    const targets = Array.from({ length: 1_000 }, (_, i) => `site-${part}-${i}.example`);
    const created = registry.createOrder({ ...ORDER, reference: `integrity-fill-${part}`, targets }, 'test');
    if (!created.ok) throw new Error(created.error.message);
    if (created.value.pending)
      throw new Error('the fill order is pending: lower it below the four-eyes threshold');
  }
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A data directory whose registry holds the fill; removed after the test. */
async function filledDataDir(): Promise<{ dataDir: string; dbPath: string }> {
  const dataDir = await tempDir('takedown-corrupt-');
  cleanup = () => rm(dataDir, { recursive: true, force: true });
  const dbPath = join(dataDir, 'takedown.db');
  const registry = openRegistry(dbPath);
  fill(registry);
  registry.close();
  return { dataDir, dbPath };
}

/** Why `takedown serve` did not start on `dataDir`, or 'started' when it did. */
const startError = (dataDir: string) =>
  startHubProcess({ dataDir }).then(
    async (hub) => {
      await hub.stop('SIGKILL');
      return 'started';
    },
    (e: Error) => e.message,
  );

describe('a damaged registry file', () => {
  it('makes `takedown serve` refuse to start, naming the file and the restore', async () => {
    const { dataDir, dbPath } = await filledDataDir();
    await flipTablePage(dbPath, 'changes');

    const error = await startError(dataDir);
    expect(error).toContain('exited (1) before listening');
    expect(error).toContain(`the registry ${dbPath} is damaged (quick_check:`);
    expect(error).toContain('restore the file from a backup');
    expect(error).not.toContain('listening on');
  });

  it('is refused at the start after a clean stop too, when the file changed since', async () => {
    const { dataDir, dbPath } = await filledDataDir();
    // A clean stop leaves its mark; a restart on the untouched file starts, and stops cleanly again.
    const first = await startHubProcess({ dataDir });
    expect((await first.stop()).code).toBe(0);
    expect(existsSync(`${dbPath}.clean-stop`)).toBe(true);
    const second = await startHubProcess({ dataDir });
    expect((await second.stop()).code).toBe(0);
    await flipTablePage(dbPath, 'changes');

    const error = await startError(dataDir);
    expect(error).toContain(`the registry ${dbPath} is damaged (quick_check:`);
    expect(existsSync(`${dbPath}.clean-stop`)).toBe(false);
  });

  it('found by the periodic integrity check: /readyz answers 503 and every write is refused', {
    timeout: 60_000,
  }, async () => {
    // Four-eyes off: the 3 000-target order must write its changes (enough rows for several b-tree leaves).
    const t: TestHub = await testApp({ config: { integrityCheckSeconds: 0.5, approvalMaxTargets: 0 } });
    cleanup = () => t.close();
    fill(t.hub.registry);
    await t.hub.feedsStarted;
    expect((await t.call('GET', '/readyz')).status).toBe(200);

    await flipTablePage(t.dbPath, 'changes');
    const ready = await eventually(async () => {
      const r = await t.call('GET', '/readyz');
      return r.status === 503 ? r : undefined;
    }, '/readyz to turn 503');
    expect(ready.body).toMatchObject({ status: 'corrupt', error: { code: 'registry_corrupt' } });
    expect(ready.body.error.message).toContain('restore it from a backup');

    const order = { ...ORDER, reference: 'integrity-2', targets: ['after.example'] };
    await expectRefused(
      t,
      () => t.call('POST', '/v1/orders', { as: 'regulator', json: order }),
      503,
      'registry_corrupt',
    );
    await expectRefused(
      t,
      () => t.call('POST', '/v1/tokens', { as: 'admin', json: { role: 'auditor', name: 'late' } }),
      503,
      'registry_corrupt',
    );
  });
});
