import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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

/** The pid of a process that has ended (a child run to its exit). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('DirectoryArtifactStore', () => {
  it('sweeps what an ended process staged when it makes a staging directory, and keeps live ones', async () => {
    const root = await tempDir();
    const store = new DirectoryArtifactStore(root);
    const mine = await store.staging();
    await writeFile(join(mine, 'dns.tkd'), 'staged by this process');
    // A hub killed mid-scan: its directory, named after its pid, with a half-written artifact in it.
    const left = join(root, '.staging', `${deadPid()}-kill9`);
    await mkdir(left);
    await writeFile(join(left, 'url.tkd'), 'half an artifact');
    const next = await store.staging();
    expect((await readdir(join(root, '.staging'))).sort()).toEqual(
      [mine, next].map((dir) => dir.slice(dir.lastIndexOf('/') + 1)).sort(),
    );
    expect(await readdir(mine)).toEqual(['dns.tkd']);
  });

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
