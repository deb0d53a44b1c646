import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeArtifact, type ManifestInput } from '../../src/core/artifact.ts';
import { sha256Hex } from '../../src/core/bytes.ts';
import { signCheckpoint } from '../../src/core/checkpoint.ts';
import { generateSigningKey } from '../../src/core/keys.ts';
import { ArtifactFileWriter } from '../../src/feeds/artifact-file.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const manifest = (checkpoint: string): ManifestInput => ({
  kind: 'snapshot',
  feed: 'url',
  from: 0,
  to: 42,
  createdAt: 1_700_000_000_000,
  expiresAt: 1_700_086_400_000,
  entryCount: 3,
  checksum: 'ab'.repeat(32),
  checkpoint,
});

describe('ArtifactFileWriter', () => {
  it('writes the bytes encodeArtifact gives, its payload streamed in blocks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'takedown-artifact-file-'));
    dirs.push(dir);
    const key = await generateSigningKey();
    const payload = new Uint8Array(5 * 1024 * 1024 + 3).map((_, i) => (i * 31) & 0xff);
    // No checkpoint, and one that moves the payload (its length is not known to the payload's writer).
    const note = await signCheckpoint(
      { origin: 'takedown.test/log', treeSize: 7, root: new Uint8Array(32).fill(5), version: 42 },
      key,
    );
    for (const [name, checkpoint] of [
      ['bare', ''],
      ['noted', note],
    ] as const) {
      const path = join(dir, `${name}.tkd`);
      const writer = new ArtifactFileWriter(path, checkpoint);
      const block = new Uint8Array(1 << 20);
      for (let at = 0; at < payload.length; at += block.length) {
        const part = payload.subarray(at, at + block.length);
        block.set(part);
        writer.write(block.subarray(0, part.length));
        block.fill(0); // the writer must not keep the caller's block
      }
      const written = await writer.finish(manifest(checkpoint), key);
      expect(written).toEqual({
        path,
        payloadLength: payload.length,
        payloadSha256: await sha256Hex(payload),
      });
      const expected = await encodeArtifact(manifest(checkpoint), payload, key);
      expect(Buffer.from(await readFile(path)).equals(Buffer.from(expected))).toBe(true);
    }
    expect((await readdir(dir)).sort()).toEqual(['bare.tkd', 'noted.tkd']);
  });

  it('leaves no file when its manifest is refused or it is abandoned', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'takedown-artifact-file-'));
    dirs.push(dir);
    const key = await generateSigningKey();
    const refused = new ArtifactFileWriter(join(dir, 'refused.tkd'), '');
    refused.write(Uint8Array.of(1, 2, 3));
    await expect(refused.finish({ ...manifest(''), checksum: 'not hex' }, key)).rejects.toThrow(/checksum/);
    const abandoned = new ArtifactFileWriter(join(dir, 'abandoned.tkd'), '');
    abandoned.write(Uint8Array.of(1));
    abandoned.abandon();
    expect(await readdir(dir)).toEqual([]);
  });
});
