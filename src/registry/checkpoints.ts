/**
 * The hub's checkpoints: one per registry version, the version's tree head signed as a C2SP note with the
 * feed signing key. Ed25519 is deterministic, so a checkpoint is signed on demand (and cached) instead of
 * stored: the same version, key and origin always give the same note.
 */
import { type CheckpointSource, type SignedCheckpoint, signCheckpoint } from '../core/checkpoint.ts';
import type { SigningKey } from '../core/keys.ts';
import type { Registry } from './registry.ts';

const CACHED = 1024;

export function checkpointSource(registry: Registry, key: SigningKey, origin: string): CheckpointSource {
  const cache = new Map<number, Promise<SignedCheckpoint>>();
  return async (version) => {
    const head = registry.logHead(version);
    if (head === null) return null;
    let signed = cache.get(head.version);
    if (signed === undefined) {
      const checkpoint = { origin, treeSize: head.treeSize, root: head.root, version: head.version };
      signed = signCheckpoint(checkpoint, key).then((note) => ({ ...checkpoint, note }));
      if (cache.size >= CACHED) cache.delete(cache.keys().next().value as number);
      cache.set(head.version, signed);
    }
    return signed;
  };
}
