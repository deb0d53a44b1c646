import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeArtifact } from '../core/artifact.ts';
import { exportPublicKey, generateSigningKey, type PublicKey } from '../core/keys.ts';
import { decodeKeySetPayload, encodeKeySet } from '../core/keyset.ts';
import { writeFileDurably } from '../util/durable-file.ts';
import { loadSigningKey, PUBLIC_KEY_FILE, SIGNING_KEY_FILE, writeKeyFiles } from './signing-key.ts';

export const KEYSET_FILE = 'keyset.tkd';
/** Every key set stays available by version, so a consumer that missed a rotation can walk the chain. */
const keySetFile = (version: number) => `keyset-${version}.tkd`;
/** A key set stays valid long enough for an agent that was offline for weeks to follow it. */
const KEYSET_TTL_MS = 90 * 24 * 60 * 60 * 1000;

/** A key-set artifact of a keys directory (the latest, or one version) and its keys; null when there is none. */
export async function loadKeySet(
  keysDir: string,
  version?: number,
): Promise<{ bytes: Uint8Array; version: number; keys: PublicKey[] } | null> {
  const name = version === undefined ? KEYSET_FILE : keySetFile(version);
  const bytes = await readFile(join(keysDir, name)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (bytes === null) return null;
  const decoded = decodeArtifact(new Uint8Array(bytes));
  if (!decoded.ok) throw new Error(`${name}: ${decoded.error.message}`);
  const keys = await decodeKeySetPayload(decoded.value.payload);
  if (!keys.ok) throw new Error(`${name}: ${keys.error.message}`);
  return { bytes: new Uint8Array(bytes), version: decoded.value.manifest.to, keys: keys.value };
}

/**
 * Rotates the hub's signing key: a new key pair becomes `signing.key`, and a key set naming the current
 * and the new key, signed by the CURRENT key (the one consumers pin), is written beside it. Consumers
 * follow the key set to the new key; the retired private key is kept as `retired-<id>.key`.
 */
export async function rotateSigningKey(
  keysDir: string,
  now = Date.now(),
): Promise<{ from: string; to: string; version: number }> {
  const current = await loadSigningKey(keysDir);
  const previous = await loadKeySet(keysDir);
  const next = await generateSigningKey();
  const version = (previous?.version ?? 0) + 1;
  const artifact = await encodeKeySet(
    { keys: [current.publicKey, next.publicKey], version, createdAt: now, expiresAt: now + KEYSET_TTL_MS },
    current,
  );
  await writeFileDurably(join(keysDir, keySetFile(version)), artifact, { mode: 0o644 });
  await writeFileDurably(join(keysDir, KEYSET_FILE), artifact, { mode: 0o644 });
  await writeFileDurably(
    join(keysDir, `retired-${current.id}.pub`),
    `${exportPublicKey(current.publicKey)}\n`,
    {
      mode: 0o644,
    },
  );
  await rename(join(keysDir, SIGNING_KEY_FILE), join(keysDir, `retired-${current.id}.key`));
  await writeKeyFiles(keysDir, next, SIGNING_KEY_FILE, PUBLIC_KEY_FILE);
  return { from: current.id, to: next.id, version };
}
