import { readFile } from 'node:fs/promises';
import { exportPrivateKey, generateSigningKey, importPrivateKey, type SigningKey } from '../core/keys.ts';
import { writeFileDurably } from '../util/durable-file.ts';

/**
 * The probe's own Ed25519 key at `path` (base64 PKCS8, as `takedown keygen` writes), created with mode 0600
 * on first start: the key, not the token, is what makes a result evidence.
 */
export async function loadOrCreateProbeKey(path: string): Promise<{ key: SigningKey; created: boolean }> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) {
    const key = await generateSigningKey();
    await writeFileDurably(path, `${await exportPrivateKey(key)}\n`, { mode: 0o600 });
    return { key, created: true };
  }
  const key = await importPrivateKey(text);
  if (!key.ok) throw new Error(`${path}: ${key.error.message}`);
  return { key: key.value, created: false };
}
