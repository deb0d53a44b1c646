import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryArtifactStore } from '../../src/feeds/directory-artifact-store.ts';
import { MemoryArtifactStore } from '../../src/feeds/memory-artifact-store.ts';
import { artifactStoreContract } from './artifact-store.contract.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'takedown-store-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

artifactStoreContract('memory', async () => new MemoryArtifactStore());
artifactStoreContract(
  'directory',
  async () => new DirectoryArtifactStore(join(await tempDir(), 'artifacts')),
);

describe('DirectoryArtifactStore', () => {
  it('survives a restart: a new store on the same directory reads the same blobs', async () => {
    const root = await tempDir();
    await new DirectoryArtifactStore(root).put('snapshots/dns/1.tkd', Uint8Array.of(7, 8));
    const again = new DirectoryArtifactStore(root);
    expect(await again.list('snapshots/')).toEqual(['snapshots/dns/1.tkd']);
    expect(await again.get('snapshots/dns/1.tkd')).toEqual(Uint8Array.of(7, 8));
  });

  it('leaves no temporary file behind and never lists one a crash left', async () => {
    const root = await tempDir();
    const store = new DirectoryArtifactStore(root);
    await store.put('d/k', Uint8Array.of(1));
    expect(await readdir(join(root, 'd'))).toEqual(['k']);
    await writeFile(join(root, 'd', '.0123abcd.tmp'), 'half a file');
    expect(await store.list('d/')).toEqual(['d/k']);
  });

  it('returns plain Uint8Arrays whose slice is a copy', async () => {
    const store = new DirectoryArtifactStore(await tempDir());
    await store.put('k', Uint8Array.of(1, 2, 3));
    const out = (await store.get('k')) as Uint8Array;
    expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
    out.slice()[0] = 9;
    expect(out[0]).toBe(1);
  });
});
