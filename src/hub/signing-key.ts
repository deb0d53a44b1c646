import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  exportPrivateKey,
  exportPublicKey,
  generateSigningKey,
  importPrivateKey,
  type SigningKey,
} from '../core/keys.ts';
import { writeFileDurably } from '../util/durable-file.ts';

export const SIGNING_KEY_FILE = 'signing.key';
export const PUBLIC_KEY_FILE = 'signing.pub';

/**
 * The hub's Ed25519 signing key: from the environment when given, else `keysDir/signing.key`, created
 * (mode 0600, beside its public key) on first start. The public key file holds the base64 text that
 * consumers pin (docs/ARCHITECTURE.md: interfaces).
 */
export async function loadSigningKey(keysDir: string, fromEnv?: string): Promise<SigningKey> {
  if (fromEnv) return unwrapKey(await importPrivateKey(fromEnv), 'TAKEDOWN_SIGNING_KEY');
  const file = join(keysDir, SIGNING_KEY_FILE);
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (existing !== null) return unwrapKey(await importPrivateKey(existing.trim()), file);
  const key = await generateSigningKey();
  await writeKeyFiles(keysDir, key, SIGNING_KEY_FILE, PUBLIC_KEY_FILE);
  return key;
}

/** Writes a key pair's two files atomically (temp name, then rename); the private one readable by its owner only. */
export async function writeKeyFiles(dir: string, key: SigningKey, privateName: string, publicName: string) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileDurably(join(dir, publicName), `${exportPublicKey(key.publicKey)}\n`, { mode: 0o644 });
  await writeFileDurably(join(dir, privateName), `${await exportPrivateKey(key)}\n`, { mode: 0o600 });
}

function unwrapKey<T>(
  result: { ok: true; value: T } | { ok: false; error: { message: string } },
  from: string,
): T {
  if (!result.ok) throw new Error(`signing key from ${from}: ${result.error.message}`);
  return result.value;
}
