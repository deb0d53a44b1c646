/**
 * The key of the transparency log's target commitments (HMAC-SHA-256 over a confidential entry's
 * expression): 32 random bytes, hex, in `keys/commitment.key` beside the database, created (mode 0600) on
 * first use, like the signing key. The hub gives it to ISPs and auditors, who can then check that a
 * committed leaf is the name they hold; the public cannot.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { tempPathBeside } from '../util/durable-file.ts';

const COMMITMENT_KEY_FILE = 'commitment.key';

/** The commitment key file of the registry at `dbPath`. */
export const commitmentKeyPath = (dbPath: string): string =>
  join(dirname(dbPath), 'keys', COMMITMENT_KEY_FILE);

/** Reads the key, creating it when absent and `create` is set (synchronously: registries open synchronously). */
export function loadCommitmentKey(file: string, create: boolean): Uint8Array {
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw e;
  }
  if (text !== null) {
    if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${file} is not 64 lower-case hex characters`);
    return Uint8Array.from(Buffer.from(text, 'hex'));
  }
  const key = randomBytes(32);
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = tempPathBeside(file);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link, not rename: it fails when another process created the key first, whose key then wins.
    linkSync(temp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return loadCommitmentKey(file, false);
  } finally {
    unlinkSync(temp);
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return Uint8Array.from(key);
}
