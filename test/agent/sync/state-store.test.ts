import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateDirectoryError, StateStore } from '../../../src/agent/sync/state-store.ts';
import { generateSigningKey } from '../../../src/core/keys.ts';
import { PlainState } from '../../../src/core/plain-state.ts';
import { domain } from './fake-hub.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'takedown-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function meta(state: PlainState, version: number) {
  return {
    version,
    expiresAt: 2_000_000_000_000,
    createdAt: 1_700_000_000_000,
    entryCount: state.entryCount,
    checksum: await state.checksum(),
    appliedAt: '2025-01-01T00:00:00.000Z',
  };
}

describe('StateStore', () => {
  it('saves a version and loads it back, keeping only the current entries file', async () => {
    const store = await StateStore.open(dir, 'dns');
    expect(await store.loadEntries()).toEqual({ ok: true, value: null });
    const v1 = PlainState.fromEntries([domain('a.test')]);
    const v2 = PlainState.fromEntries([domain('a.test'), domain('b.test')]);
    await store.saveApplied(v1, await meta(v1, 1), null);
    await store.saveApplied(v2, await meta(v2, 2), null);
    await store.saveOutputs([{ format: 'rpz', path: '/x', version: 2, ok: true, appliedAt: 'then' }]);
    expect((await readdir(dir)).sort()).toEqual(['entries-2.tsv', 'state.json']);

    const reopened = await StateStore.open(dir, 'dns');
    const loaded = await reopened.loadEntries();
    if (!loaded.ok || !loaded.value) throw new Error('nothing loaded');
    expect(loaded.value.saved.version).toBe(2);
    expect([...loaded.value.saved.state.entries()]).toEqual([...v2.entries()]);
    expect(reopened.outputs).toEqual([
      { format: 'rpz', path: '/x', version: 2, ok: true, appliedAt: 'then' },
    ]);
  });

  it('writes a state rebuilt by a delta from its parts, and loads it back with its checksum', async () => {
    const store = await StateStore.open(dir, 'dns');
    const names = Array.from({ length: 5000 }, (_, i) => domain(`n${String(i).padStart(5, '0')}.test`));
    const base = PlainState.fromEntries(names);
    const delta = new TextEncoder().encode('-\tn02500.test/\n+\tn02500z.test/\tdomain\tfraud\tblock\n');
    const changed = base.applyDelta(delta);
    if (!changed.ok) throw new Error(changed.error.message);
    expect(changed.value.snapshotParts().length).toBeGreaterThan(1);
    await store.saveApplied(changed.value, await meta(changed.value, 2), null);
    expect(new Uint8Array(await readFile(join(dir, 'entries-2.tsv')))).toEqual(
      changed.value.toSnapshotPayload(),
    );
    const loaded = await (await StateStore.open(dir, 'dns')).loadEntries();
    if (!loaded.ok || !loaded.value) throw new Error('nothing loaded');
    expect(await loaded.value.saved.state.checksum()).toBe(await changed.value.checksum());
    expect(loaded.value.saved.state.get('n02500z.test/')).toMatchObject({ category: 'fraud' });
  });

  it('reports damaged entries, and forgets them on request', async () => {
    const store = await StateStore.open(dir, 'dns');
    const v1 = PlainState.fromEntries([domain('a.test')]);
    await store.saveApplied(v1, await meta(v1, 1), null);
    await writeFile(join(dir, 'entries-1.tsv'), 'a.test/\tdomain\tmalware\tredirect\n');
    const loaded = await (await StateStore.open(dir, 'dns')).loadEntries();
    expect(loaded).toMatchObject({ ok: false, error: { code: 'local_state' } });
    await store.clearApplied();
    expect(await (await StateStore.open(dir, 'dns')).loadEntries()).toEqual({ ok: true, value: null });
  });

  it('removes temporary files of interrupted writes when opened', async () => {
    await writeFile(join(dir, '.entries-9.tsv.123.abcdef.tmp'), 'half');
    await StateStore.open(dir, 'dns');
    expect(await readdir(dir)).toEqual([]);
  });

  it('belongs to one feed and refuses what it cannot read', async () => {
    await (await StateStore.open(dir, 'dns')).saveOutputs([]);
    await expect(StateStore.open(dir, 'url')).rejects.toThrow('holds feed "dns", not "url"');
    await writeFile(join(dir, 'state.json'), '{"format": 2}');
    await expect(StateStore.open(dir, 'dns')).rejects.toThrow(StateDirectoryError);
    await writeFile(join(dir, 'state.json'), 'not json');
    await expect(StateStore.open(dir, 'dns')).rejects.toThrow('is not JSON');
  });

  it('keeps a followed key ring only for the pinned keys it was followed from', async () => {
    const [a, b, c] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
    const store = await StateStore.open(dir, 'dns');
    await store.saveTrust([a.publicKey], { version: 3, keys: [a.publicKey, b.publicKey] });
    const reopened = await StateStore.open(dir, 'dns');
    const ring = await reopened.trustedKeys([a.publicKey]);
    expect(ring?.version).toBe(3);
    expect(ring?.keys.map((k) => k.id)).toEqual([a.id, b.id]);
    // The operator pinned another key (e.g. after a compromise): the followed ring no longer counts.
    expect(await reopened.trustedKeys([c.publicKey])).toBeUndefined();
  });
});
