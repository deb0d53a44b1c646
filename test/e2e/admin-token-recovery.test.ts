import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type HubProcess, runCli, startHubProcess, tempDir } from '../helpers/hub.ts';

// docs/OPERATIONS.md "A lost admin token": mint one on the registry of a running hub, use it, revoke the lost one.

let hub: HubProcess | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await hub?.stop('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('recovering a lost admin token', () => {
  it('mints an admin token on the running hub registry that the hub accepts at once', async () => {
    dataDir = await tempDir('takedown-recovery-');
    hub = await startHubProcess({ dataDir });
    const lost = hub.printedAdminToken;
    expect(lost).toMatch(/^tdk_/);

    const minted = await runCli([
      'token',
      'create',
      '--role',
      'admin',
      '--name',
      'recovery',
      '--data',
      dataDir,
    ]);
    expect(minted.code).toBe(0);
    const recovered = minted.stdout.trim();
    expect(recovered).toMatch(/^tdk_[A-Za-z0-9_-]{43}$/);

    const auth = { authorization: `Bearer ${recovered}` };
    const list = await fetch(`${hub.url}/v1/tokens`, { headers: auth });
    expect(list.status).toBe(200);
    const tokens = ((await list.json()) as { tokens: Array<{ id: number; name: string }> }).tokens;
    const first = tokens.find((t) => t.name === 'first-admin');
    expect(first).toBeDefined();
    const revoked = await fetch(`${hub.url}/v1/tokens/${first?.id}`, { method: 'DELETE', headers: auth });
    expect(revoked.status).toBe(200);
    const refused = await fetch(`${hub.url}/v1/tokens`, { headers: { authorization: `Bearer ${lost}` } });
    expect(refused.status).toBe(401);
  });
});
