import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importPublicKey, type PublicKey } from '../../src/core/keys.ts';
import { followKeySet, pinnedKeys } from '../../src/core/keyset.ts';
import { verifyArtifact } from '../../src/core/verify.ts';
import { loadHubConfig } from '../../src/hub/config.ts';
import { createHub, type Hub } from '../../src/hub/hub.ts';
import { rotateSigningKey } from '../../src/hub/key-rotation.ts';
import { newTokenText, runCli, tempDir } from '../helpers/hub.ts';

// Key rotation end to end: a consumer that pins the first key follows the hub's key set to the next one.

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startHub(dataDir: string, adminToken: string): Promise<Hub> {
  const hub = await createHub(loadHubConfig({ dataDir, adminToken }));
  cleanup.push(() => hub.close());
  await hub.feedsStarted;
  return hub;
}

async function publicKeyFile(path: string): Promise<PublicKey> {
  const key = await importPublicKey((await readFile(path, 'utf8')).trim());
  if (!key.ok) throw new Error(key.error.message);
  return key.value;
}

describe('signing key rotation', () => {
  it('publishes a key set signed by the old key that pinned consumers follow to the new one', async () => {
    const dataDir = await tempDir();
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const admin = newTokenText();
    const keysDir = join(dataDir, 'keys');

    const first = await startHub(dataDir, admin);
    expect((await first.app.request('/v1/keys/keyset')).status).toBe(404);
    await first.close();
    const oldKey = await publicKeyFile(join(keysDir, 'signing.pub'));

    const rotated = await rotateSigningKey(keysDir);
    expect(rotated.from).toBe(oldKey.id);
    const hub = await startHub(dataDir, admin);
    const keys = (await (await hub.app.request('/v1/keys')).json()) as { keys: Array<{ id: string }> };
    expect(keys.keys.map((k) => k.id)).toEqual([rotated.to, oldKey.id]);

    const keySet = new Uint8Array(await (await hub.app.request('/v1/keys/keyset')).arrayBuffer());
    const ring = await followKeySet(pinnedKeys([oldKey]), keySet, Date.now());
    expect(ring.ok && ring.value.keys.map((k) => k.id).sort()).toEqual([oldKey.id, rotated.to].sort());
    // Replaying the same key set to a consumer that already follows it is a rollback.
    if (ring.ok) expect(await followKeySet(ring.value, keySet, Date.now())).toMatchObject({ ok: false });

    const distributor = hub.registry.createToken('distributor', 'isp');
    if (!distributor.ok) throw new Error(distributor.error.message);
    const snapshot = await hub.app.request('/v1/feeds/dns/snapshot', {
      headers: { authorization: `Bearer ${distributor.value.token}` },
    });
    expect(snapshot.status).toBe(200);
    const bytes = new Uint8Array(await snapshot.arrayBuffer());
    const options = { feed: 'dns', appliedVersion: null, now: Date.now() };
    const pinnedOnly = await verifyArtifact(bytes, { ...options, trustedKeys: [oldKey] });
    expect(pinnedOnly.ok ? 'ok' : pinnedOnly.error.code).toBe('untrusted_key');
    const followed = await verifyArtifact(bytes, { ...options, trustedKeys: ring.ok ? ring.value.keys : [] });
    expect(followed.ok).toBe(true);
  });

  it('keeps every key set, so a consumer that missed a rotation walks the chain', async () => {
    const dataDir = await tempDir();
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const admin = newTokenText();
    const keysDir = join(dataDir, 'keys');
    await (await startHub(dataDir, admin)).close();
    const first = await publicKeyFile(join(keysDir, 'signing.pub'));
    await rotateSigningKey(keysDir);
    const second = await rotateSigningKey(keysDir);
    expect(second.version).toBe(2);
    const hub = await startHub(dataDir, admin);
    const fetchSet = async (query: string) =>
      new Uint8Array(await (await hub.app.request(`/v1/keys/keyset${query}`)).arrayBuffer());

    // The latest set is signed by the second key, which a consumer pinning the first does not trust yet.
    const pinned = pinnedKeys([first]);
    const direct = await followKeySet(pinned, await fetchSet(''), Date.now());
    expect(direct.ok ? 'ok' : direct.error.code).toBe('untrusted_key');
    const one = await followKeySet(pinned, await fetchSet('?version=1'), Date.now());
    if (!one.ok) throw new Error(one.error.message);
    const two = await followKeySet(one.value, await fetchSet('?version=2'), Date.now());
    expect(two.ok && two.value.keys.map((k) => k.id)).toContain(second.to);
    expect((await hub.app.request('/v1/keys/keyset?version=3')).status).toBe(404);
    expect((await hub.app.request('/v1/keys/keyset?version=x')).status).toBe(400);
  });

  it('takedown keygen --rotate refuses a directory without a key, and verify checks the key set', async () => {
    const dir = await tempDir();
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const refused = await runCli(['keygen', '--rotate', '--out', dir]);
    expect(refused.code).toBe(2);
    expect((await runCli(['keygen', '--out', dir])).code).toBe(0);
    expect((await runCli(['keygen', '--out', dir])).code).toBe(2); // would overwrite the pinned key
    const pinned = join(dir, 'pinned.pub');
    await copyFile(join(dir, 'signing.pub'), pinned);
    expect((await runCli(['keygen', '--rotate', '--out', dir])).code).toBe(0);
    const checked = await runCli(['verify', join(dir, 'keyset.tkd'), '--key', pinned]);
    expect(checked.stdout).toContain('OK every rule passes');
    expect(checked.code).toBe(0);
    const wrongKey = await runCli(['verify', join(dir, 'keyset.tkd'), '--key', join(dir, 'signing.pub')]);
    expect(wrongKey.stdout).toContain('FAIL untrusted_key');
    expect(wrongKey.code).toBe(1);
  });
});
