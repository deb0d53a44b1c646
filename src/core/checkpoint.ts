/**
 * Checkpoints (signed tree heads) in the C2SP `tlog-checkpoint` format, signed as C2SP `signed-note`s with
 * the feed's Ed25519 key:
 *
 *   <origin>\n
 *   <tree size, decimal>\n
 *   <root hash, base64>\n
 *   takedown-version <registry version>\n        (an extension line: binds the tree to the version)
 *   \n
 *   — <key name> <base64(key hash (4 bytes) || Ed25519 signature (64 bytes))>\n
 *
 * The signature covers every line before the blank one, newlines included. The key name is the origin; the
 * key hash is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || raw public key), 0x01 being the
 * signed-note type of Ed25519.
 */
import { concatBytes, equalBytes, fromBase64, toBase64, utf8 } from './bytes.ts';
import { type PublicKey, type SigningKey, sign, verifySignature } from './keys.ts';
import { HASH_BYTES } from './merkle.ts';
import { sha256Sync } from './sha256.ts';
import { fail, ok, type Result } from './types.ts';

export interface Checkpoint {
  origin: string;
  treeSize: number;
  root: Uint8Array;
  /** The registry version whose tree this is. */
  version: number;
}

const VERSION_LINE = 'takedown-version ';
const SIGNATURE_PREFIX = '\u2014 ';
const ED25519 = 0x01;
const ORIGIN = /^[^\s\u2014+][^\s+]*$/;

/** Thrown for an origin a note cannot carry (empty, white space, "+" or a leading em dash). */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** The signed part of a checkpoint's note. */
export function checkpointBody(c: Checkpoint): string {
  if (!ORIGIN.test(c.origin)) throw new CheckpointError(`origin "${c.origin}" is not a key name`);
  return `${c.origin}\n${c.treeSize}\n${toBase64(c.root)}\n${VERSION_LINE}${c.version}\n`;
}

/** The signed-note key hash of an Ed25519 key under `name`. */
export function noteKeyHash(name: string, publicKeyRaw: Uint8Array): Uint8Array {
  return sha256Sync(concatBytes([utf8(name), Uint8Array.of(0x0a, ED25519), publicKeyRaw])).subarray(0, 4);
}

/** The signed note of `c` (deterministic: Ed25519 signatures are). */
export async function signCheckpoint(c: Checkpoint, key: SigningKey): Promise<string> {
  const body = checkpointBody(c);
  const signature = await sign(key, utf8(body));
  const blob = concatBytes([noteKeyHash(c.origin, key.publicKey.raw), signature]);
  return `${body}\n${SIGNATURE_PREFIX}${c.origin} ${toBase64(blob)}\n`;
}

/** A parsed note: the checkpoint and its signature lines (not yet verified). */
export interface ParsedCheckpoint {
  checkpoint: Checkpoint;
  body: string;
  signatures: Array<{ name: string; keyHash: Uint8Array; signature: Uint8Array }>;
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** Parses a checkpoint note; `checkpoint_malformed` names what is wrong. */
export function parseCheckpoint(text: string): Result<ParsedCheckpoint> {
  const bad = (why: string) => fail<ParsedCheckpoint>('checkpoint_malformed', `checkpoint ${why}`);
  const split = text.indexOf('\n\n');
  if (split < 0 || !text.endsWith('\n')) return bad('has no blank line before its signatures');
  const body = text.slice(0, split + 1);
  const lines = body.slice(0, -1).split('\n');
  const [origin, size, root, ...extensions] = lines;
  if (origin === undefined || !ORIGIN.test(origin)) return bad(`origin "${origin}" is not valid`);
  if (size === undefined || !DECIMAL.test(size) || !Number.isSafeInteger(Number(size))) {
    return bad(`tree size "${size}" is not a decimal number`);
  }
  const rootBytes = root === undefined ? undefined : fromBase64(root);
  if (rootBytes?.length !== HASH_BYTES) return bad('root hash is not base64 of 32 bytes');
  const versionLine = extensions.find((l) => l.startsWith(VERSION_LINE));
  const version = versionLine?.slice(VERSION_LINE.length);
  if (version === undefined || !DECIMAL.test(version)) return bad('has no takedown-version line');
  const signatures: ParsedCheckpoint['signatures'] = [];
  for (const line of text.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    const blob = m ? fromBase64(m[2] as string) : undefined;
    if (!m || blob === undefined || blob.length < 5) return bad(`signature line "${line}" is malformed`);
    signatures.push({ name: m[1] as string, keyHash: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  if (signatures.length === 0) return bad('has no signature');
  return ok({
    checkpoint: { origin, treeSize: Number(size), root: rootBytes, version: Number(version) },
    body,
    signatures,
  });
}

/**
 * The checkpoint of a note signed by one of `keys` under its origin as key name: `checkpoint_malformed`,
 * or `checkpoint_unsigned` when no signature of a given key verifies.
 */
export async function verifyCheckpoint(
  text: string,
  keys: readonly PublicKey[],
): Promise<Result<Checkpoint>> {
  const parsed = parseCheckpoint(text);
  if (!parsed.ok) return parsed;
  const { checkpoint, body, signatures } = parsed.value;
  for (const key of keys) {
    const hash = noteKeyHash(checkpoint.origin, key.raw);
    for (const s of signatures) {
      if (s.name !== checkpoint.origin || !equalBytes(s.keyHash, hash)) continue;
      if (await verifySignature(key, s.signature, utf8(body))) return ok(checkpoint);
    }
  }
  return fail('checkpoint_unsigned', `checkpoint of ${checkpoint.origin} is not signed by a trusted key`);
}

/** A version's tree head and its signed note. */
export interface SignedCheckpoint {
  version: number;
  treeSize: number;
  root: Uint8Array;
  /** The signed note. */
  note: string;
}

/** Signs checkpoints of `version` (default: the latest); null when the log has no such version. */
export type CheckpointSource = (version?: number) => Promise<SignedCheckpoint | null>;
