/** The contract every ArtifactStore implementation passes (run by artifact-store.test.ts for each one). */
import { access, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ArtifactConflictError,
  ArtifactKeyError,
  type ArtifactStore,
  STREAM_CHUNK_BYTES,
} from '../../src/feeds/artifact-store.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);

const gone = (path: string) =>
  access(path).then(
    () => false,
    () => true,
  );

/** A finished file of `content` in a new staging directory of `store`. */
async function staged(store: ArtifactStore, name: string, content: Uint8Array): Promise<string> {
  const path = join(await store.staging(), name);
  await writeFile(path, content);
  return path;
}

async function readAll(stream: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream ?? []) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function artifactStoreContract(name: string, create: () => Promise<ArtifactStore>): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    it('returns what was put, and null for an absent key', async () => {
      const store = await create();
      await store.put('snapshots/dns/0001.tkd', bytes(1, 2, 3));
      expect(await store.get('snapshots/dns/0001.tkd')).toEqual(bytes(1, 2, 3));
      expect(await store.get('snapshots/dns/0002.tkd')).toBeNull();
    });

    it('stores empty and large blobs exactly', async () => {
      const store = await create();
      const large = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7919) & 0xff);
      await store.put('a/empty', new Uint8Array(0));
      await store.put('a/large', large);
      expect(await store.get('a/empty')).toEqual(new Uint8Array(0));
      // Compared as one buffer: a deep equality of millions of elements is slow.
      expect(Buffer.from((await store.get('a/large')) as Uint8Array).equals(large)).toBe(true);
    });

    it('reads the head of a blob: its first bytes, all of a shorter one, null for an absent key', async () => {
      const store = await create();
      await store.put('a/blob', bytes(1, 2, 3, 4, 5));
      expect(await store.head('a/blob', 3)).toEqual(bytes(1, 2, 3));
      expect(await store.head('a/blob', 100)).toEqual(bytes(1, 2, 3, 4, 5));
      expect(await store.head('a/none', 3)).toBeNull();
    });

    it('streams a blob from an offset, chunk after chunk, and null for an absent key', async () => {
      const store = await create();
      const large = new Uint8Array(2 * STREAM_CHUNK_BYTES + 5).map((_, i) => (i * 131) & 0xff);
      await store.put('a/large', large);
      for (const offset of [0, 3, STREAM_CHUNK_BYTES + 1, large.length, large.length + 9]) {
        const read = await readAll(await store.stream('a/large', offset));
        expect(Buffer.from(read).equals(large.subarray(offset)), `from ${offset}`).toBe(true);
      }
      expect(await store.stream('a/none', 0)).toBeNull();
      expect(await store.size('a/large')).toBe(large.length);
      expect(await store.size('a/none')).toBeNull();
    });

    it('keeps streaming what it opened when the key is deleted meanwhile', async () => {
      const store = await create();
      const blob = new Uint8Array(STREAM_CHUNK_BYTES + 7).fill(7);
      await store.put('a/blob', blob);
      const stream = (await store.stream('a/blob', 0)) as ReadableStream<Uint8Array>;
      await store.delete('a/blob');
      expect((await readAll(stream)).length).toBe(blob.length);
    });

    it('stores a streamed blob under a free key only', async () => {
      const store = await create();
      async function* parts() {
        yield bytes(1, 2);
        yield new Uint8Array(0);
        yield bytes(3);
      }
      await store.putStream('a/streamed', parts());
      expect(await store.get('a/streamed')).toEqual(bytes(1, 2, 3));
      await expect(store.putStream('a/streamed', parts())).rejects.toThrow(ArtifactConflictError);
      async function* failing() {
        yield bytes(1);
        throw new Error('source failed');
      }
      await expect(store.putStream('a/failed', failing())).rejects.toThrow('source failed');
      expect(await store.get('a/failed')).toBeNull();
      expect(await store.list('a/')).toEqual(['a/streamed']);
    });

    it('keeps its own copy: changing the caller buffer or a returned one changes nothing stored', async () => {
      const store = await create();
      const input = bytes(1, 2, 3);
      await store.put('k', input);
      input[0] = 9;
      const out = (await store.get('k')) as Uint8Array;
      out[1] = 9;
      expect(await store.get('k')).toEqual(bytes(1, 2, 3));
    });

    it('accepts the same bytes again but refuses other bytes under an existing key', async () => {
      const store = await create();
      await store.put('k', bytes(1, 2));
      await store.put('k', bytes(1, 2));
      await expect(store.put('k', bytes(1, 3))).rejects.toThrow(ArtifactConflictError);
      expect(await store.get('k')).toEqual(bytes(1, 2));
    });

    it('takes a finished file: stores its bytes and the file is gone from where it was staged', async () => {
      const store = await create();
      const large = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => (i * 7919) & 0xff);
      const path = await staged(store, 'large.tkd', large);
      await store.putFile('snapshots/dns/0001.tkd', path);
      expect(await gone(path)).toBe(true);
      expect(Buffer.from((await store.get('snapshots/dns/0001.tkd')) as Uint8Array).equals(large)).toBe(true);
      // Staging directories are never listed as keys.
      await staged(store, 'left.tkd', bytes(1));
      expect(await store.list('')).toEqual(['snapshots/dns/0001.tkd']);
      await rm(join(path, '..'), { recursive: true, force: true });
    });

    it('takes a file of the same bytes again as a no-op, one of other bytes as a conflict', async () => {
      const store = await create();
      await store.put('k', bytes(1, 2, 3));
      const same = await staged(store, 'same', bytes(1, 2, 3));
      await store.putFile('k', same);
      expect(await gone(same)).toBe(true);
      const other = await staged(store, 'other', bytes(1, 2, 4));
      await expect(store.putFile('k', other)).rejects.toThrow(ArtifactConflictError);
      // The refused file stays the caller's; the stored bytes are unchanged.
      expect(await gone(other)).toBe(false);
      expect(await store.get('k')).toEqual(bytes(1, 2, 3));
      const longer = await staged(store, 'longer', bytes(1, 2, 3, 4));
      await expect(store.putFile('k', longer)).rejects.toThrow(ArtifactConflictError);
      await expect(store.putFile('../k', longer)).rejects.toThrow(ArtifactKeyError);
      expect(await gone(longer)).toBe(false);
      for (const path of [other, longer]) await rm(join(path, '..'), { recursive: true, force: true });
    });

    it('gives a new empty staging directory each time', async () => {
      const store = await create();
      const [a, b] = [await store.staging(), await store.staging()];
      expect(a).not.toBe(b);
      expect(await readdir(a)).toEqual([]);
      for (const dir of [a, b]) await rm(dir, { recursive: true, force: true });
    });

    it('lists keys under a prefix in byte order, nested ones included', async () => {
      const store = await create();
      for (const key of [
        'snapshots/url/2',
        'snapshots/dns/10',
        'snapshots/dns/02',
        'snapshots/dns/x/1',
        'other',
      ]) {
        await store.put(key, bytes(0));
      }
      expect(await store.list('snapshots/dns/')).toEqual([
        'snapshots/dns/02',
        'snapshots/dns/10',
        'snapshots/dns/x/1',
      ]);
      expect(await store.list('snapshots/')).toHaveLength(4);
      expect(await store.list('snapshots/dns/0')).toEqual(['snapshots/dns/02']);
      expect(await store.list('')).toHaveLength(5);
      expect(await store.list('nothing/')).toEqual([]);
    });

    it('deletes a key; deleting an absent key is a no-op', async () => {
      const store = await create();
      await store.put('a/b', bytes(1));
      await store.delete('a/b');
      await store.delete('a/b');
      expect(await store.get('a/b')).toBeNull();
      expect(await store.list('a/')).toEqual([]);
      await store.put('a/b', bytes(2));
      expect(await store.get('a/b')).toEqual(bytes(2));
    });

    it('refuses keys that could escape or hide (security)', async () => {
      const store = await create();
      for (const key of [
        '../x',
        'a/../../x',
        '/abs',
        '.hidden',
        'a//b',
        'a/',
        'A',
        'a b',
        'a\\b',
        '',
        'x'.repeat(600),
      ]) {
        await expect(store.put(key, bytes(1)), key).rejects.toThrow(ArtifactKeyError);
        await expect(store.get(key), key).rejects.toThrow(ArtifactKeyError);
        await expect(store.delete(key), key).rejects.toThrow(ArtifactKeyError);
        await expect(store.stream(key, 0), key).rejects.toThrow(ArtifactKeyError);
      }
      await expect(store.list('../')).rejects.toThrow(ArtifactKeyError);
    });
  });
}
