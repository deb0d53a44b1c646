import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSigningKey } from '../core/keys.ts';
import { localDataPaths } from '../hub/config.ts';
import { KEYSET_FILE, rotateSigningKey } from '../hub/key-rotation.ts';
import { PUBLIC_KEY_FILE, SIGNING_KEY_FILE, writeKeyFiles } from '../hub/signing-key.ts';
import { type Command, parseFlags, UsageError } from './command.ts';

export const keygen: Command = {
  name: 'keygen',
  summary: 'create an Ed25519 signing key pair (WebCrypto); the key id derives from the public key',
  usage:
    'keygen [--out DIR] [--force] | keygen --rotate [--out DIR]\n' +
    `  writes DIR/${SIGNING_KEY_FILE} (PKCS8 base64, mode 0600) and DIR/${PUBLIC_KEY_FILE} (base64 raw public key,\n` +
    '  the PUBLIC_KEY_FILE consumers pin). DIR defaults to $TAKEDOWN_DATA/keys or ./data/keys.\n' +
    '  --rotate: a new key replaces signing.key, and keyset.tkd (signed by the old key, naming both) lets\n' +
    '  consumers that pin the old key follow; restart the hub to sign with the new key.',
  async run(argv) {
    const { values } = parseFlags(argv, {
      out: { type: 'string' },
      force: { type: 'boolean' },
      rotate: { type: 'boolean' },
    });
    const dir = values.out === undefined ? localDataPaths(undefined).keysDir : resolve(values.out);
    if (values.rotate) {
      if (!existsSync(join(dir, SIGNING_KEY_FILE)))
        throw new UsageError(`no ${SIGNING_KEY_FILE} in ${dir} to rotate from`);
      const rotated = await rotateSigningKey(dir);
      console.log(
        `rotated ${rotated.from} -> ${rotated.to}; key set version ${rotated.version} in ${join(dir, KEYSET_FILE)}`,
      );
      return 0;
    }
    if (existsSync(join(dir, SIGNING_KEY_FILE)) && !values.force) {
      throw new UsageError(
        `${join(dir, SIGNING_KEY_FILE)} exists; --force replaces it (consumers pinning it will refuse new artifacts)`,
      );
    }
    const key = await generateSigningKey();
    await writeKeyFiles(dir, key, SIGNING_KEY_FILE, PUBLIC_KEY_FILE);
    console.log(
      `key ${key.id}\n  private: ${join(dir, SIGNING_KEY_FILE)}\n  public:  ${join(dir, PUBLIC_KEY_FILE)}`,
    );
    return 0;
  },
};
